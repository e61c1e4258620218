import Foundation
import Testing
@testable import PostgresTestKit

/// Where the embedded server's socket goes when its base directory is in a long home
/// directory: Darwin's limit (103 bytes) and Linux's (107), both checked here.
@Suite("SocketDirectoryChoice")
struct SocketDirectoryChoiceTests {
    static let darwin = 103, linux = 107

    /// The base directory the embedded server uses in `~/.cache` (no /dev/shm, as on macOS).
    static func cacheBase(home: String, server: String = "pg17") -> String { home + "/.cache/pgtestkit/" + server }

    /// A home directory whose socket path (`<home>/.cache/pgtestkit/<server>/.s.PGSQL.65535`) is `length` bytes.
    static func home(socketPathLength length: Int, server: String = "pg17") -> String {
        let fixed = cacheBase(home: "/Users/", server: server).utf8.count + "/.s.PGSQL.65535".utf8.count
        return "/Users/" + String(repeating: "a", count: length - fixed)
    }

    @Test func theLimitIsThePlatformsSunPathLessItsZero() {
        #expect(SocketDirectoryChoice.platformLimit == MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1)
        #if canImport(Darwin)
        #expect(SocketDirectoryChoice.platformLimit == Self.darwin)
        #else
        #expect(SocketDirectoryChoice.platformLimit == Self.linux)
        #endif
    }

    @Test(arguments: [darwin, linux])
    func aShortHomeIsLeftAlone(limit: Int) {
        for base in [Self.cacheBase(home: "/Users/ann"), "/dev/shm/pgtestkit-501-pg17-tcp", Self.cacheBase(home: Self.home(socketPathLength: limit))] {
            let choice = SocketDirectoryChoice(base: base, server: "pg17", uid: 501, limit: limit)
            #expect(choice.directory == base)
            #expect(choice.notice == nil)
        }
    }

    @Test(arguments: [darwin, linux])
    func aHomeTooLongForBothLimitsMovesTheSocketToTmp(limit: Int) throws {
        let base = Self.cacheBase(home: Self.home(socketPathLength: 130, server: "pg17-tcp"), server: "pg17-tcp")
        let choice = SocketDirectoryChoice(base: base, server: "pg17-tcp", uid: 501, limit: limit)
        #expect(choice.directory == "/tmp/pgtestkit-501-pg17-tcp-\(SocketDirectoryChoice.hash(base))")
        #expect((choice.directory + "/.s.PGSQL.65535").utf8.count <= Self.darwin)
        let notice = try #require(choice.notice)
        #expect(notice.contains("130 bytes long, past this system's limit of \(limit)"))
        #expect(notice.contains(choice.directory))
    }

    @Test func aHomeTooLongForDarwinOnlyMovesTheSocketOnDarwinOnly() {
        let base = Self.cacheBase(home: Self.home(socketPathLength: 105))
        let darwin = SocketDirectoryChoice(base: base, server: "pg17", uid: 501, limit: Self.darwin)
        let linux = SocketDirectoryChoice(base: base, server: "pg17", uid: 501, limit: Self.linux)
        #expect(darwin.directory.hasPrefix("/tmp/pgtestkit-501-pg17-"))
        #expect(darwin.notice != nil)
        #expect(linux.directory == base)
        #expect(linux.notice == nil)
    }

    @Test func twoLongBasesGetTwoSocketDirectories() {
        let first = SocketDirectoryChoice(base: Self.cacheBase(home: Self.home(socketPathLength: 120)), server: "pg17", uid: 0, limit: Self.linux)
        let second = SocketDirectoryChoice(base: Self.cacheBase(home: Self.home(socketPathLength: 121)), server: "pg17", uid: 0, limit: Self.linux)
        #expect(first.directory != second.directory)
        #expect(SocketDirectoryChoice.hash("a") == "e40c292c")   // FNV-1a's published value: stable across processes
    }
}
