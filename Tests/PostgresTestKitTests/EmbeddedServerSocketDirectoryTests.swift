import Foundation
import Testing
@testable import PostgresTestKit

/// A private embedded server whose base directory is too long for a socket path: it starts,
/// with its socket in a short 0700 directory of the user's own, and answers there.
@Suite("Embedded server: a long base directory")
struct EmbeddedServerSocketDirectoryTests {
    @Test func aBaseDirectoryTooLongForTheSocketStartsWithTheSocketInAShortDirectory() async throws {
        // One long component: made by this process, so a root run's server user can enter it.
        let base = "/tmp/pgtk-long-\(UInt32.random(in: 0...UInt32.max))-" + String(repeating: "x", count: 100)
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        #expect(server.socketDirectory != base)
        #expect(server.socketDirectory.hasPrefix("/tmp/pgtestkit-\(getuid())-pg\(server.binaries.majorVersion)-"))
        #expect(server.socketNotice?.contains(server.socketDirectory) == true)
        defer { try? FileManager.default.removeItem(atPath: server.socketDirectory) }
        do {
            try await server.start(logger: TestSupport.logger)
            #expect(try server.checkDirectory(server.socketDirectory))   // this user's (or the server user's), 0700, no symlink
            let connection = try await Connection.connect(to: server.connectionString)
            #expect(try await connection.scalar("SELECT current_setting('unix_socket_directories')", as: String.self) == server.socketDirectory)
            await connection.close()
        } catch {
            await EmbeddedServerTests.remove(server, base)
            throw error
        }
        await EmbeddedServerTests.remove(server, base)
    }
}
