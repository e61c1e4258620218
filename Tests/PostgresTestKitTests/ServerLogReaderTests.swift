import Foundation
import Testing
@testable import PostgresTestKit

/// `ServerLogReader.readSince`: moving back to a point in time by the entries' timestamps, in
/// the current log and in the rotated one, on synthetic `jsonlog` files (no server).
@Suite("Server log reader: reading from a point in time")
struct ServerLogReaderTests {
    /// A directory of its own, removed by `body`'s caller.
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "pgtestkit-logreader-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    static let base = Date(timeIntervalSince1970: 1_790_000_000)

    /// The log's timestamp `seconds` after ``base``, to the millisecond, in UTC.
    static func timestamp(_ seconds: Double) -> String {
        let date = base.addingTimeInterval(seconds)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let milliseconds = Int((Double(c.nanosecond!) / 1e6).rounded()) % 1000
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, milliseconds)
    }

    /// One `jsonlog` line: an `INSERT` numbered `n`, logged at `seconds` after ``base``.
    static func line(_ n: Int, at seconds: Double, database: String = "myapp_dev") -> String {
        #"{"timestamp":"\#(timestamp(seconds))","user":"app","dbname":"\#(database)","pid":\#(1000 + n),"application_name":"the-app","error_severity":"LOG","message":"statement: INSERT INTO t VALUES (\#(n))"}"# + "\n"
    }

    static func numbers(_ entries: [ServerLogEntry]) -> [Int] {
        entries.compactMap { entry in
            entry.loggedStatement.flatMap { Int($0.dropFirst("INSERT INTO t VALUES (".count).dropLast()) }
        }
    }

    @Test func theTimestampOfALineIsRead() {
        #expect(ServerLogEntry.date(fromTimestamp: Self.timestamp(1.25)) == Self.base.addingTimeInterval(1.25))
        #expect(ServerLogEntry.date(fromTimestamp: "2026-11-24 15:34:09.461 CET") == nil)
    }

    @Test func readsFromTheFirstEntryAtOrAfterTheDateThenOnlyWhatIsNew() throws {
        try Self.withDirectory { directory in
            let path = directory + "/server.json"
            // 3000 lines, one every 0.1 s: enough for the binary search to have work to do.
            let text = (0..<3000).map { Self.line($0, at: Double($0) / 10) }.joined()
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            var reader = ServerLogReader(path: path)
            let entries = try reader.readSince(Self.base.addingTimeInterval(250), slack: 0)
            #expect(Self.numbers(entries) == Array(2500..<3000))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((Self.line(3000, at: 300) + Self.line(3001, at: 300.1)).utf8))
            try handle.close()
            #expect(Self.numbers(try reader.readNew()) == [3000, 3001])
        }
    }

    @Test func theOffsetSearchFindsTheFirstLineAtOrAfterTheDate() throws {
        try Self.withDirectory { directory in
            let path = directory + "/server.json"
            let lines = (0..<2000).map { Self.line($0, at: Double($0) / 4) }
            try lines.joined().write(toFile: path, atomically: false, encoding: .utf8)
            for n in [0, 1, 7, 999, 1000, 1999] {
                let expected = UInt64(lines[..<n].reduce(0) { $0 + $1.utf8.count })
                #expect(try ServerLogReader.offset(ofFirstEntryAtOrAfter: Self.base.addingTimeInterval(Double(n) / 4), in: path) == expected)
            }
            let end = UInt64(lines.reduce(0) { $0 + $1.utf8.count })
            #expect(try ServerLogReader.offset(ofFirstEntryAtOrAfter: Self.base.addingTimeInterval(10_000), in: path) == end)
            #expect(try ServerLogReader.offset(ofFirstEntryAtOrAfter: .distantPast, in: path) == 0)
        }
    }

    @Test func slightlyOutOfOrderLinesAreNotLost() throws {
        try Self.withDirectory { directory in
            let path = directory + "/server.json"
            // Backends' lines reach the file slightly out of order: #1 was logged before #0.
            let text = Self.line(0, at: 10.2) + Self.line(1, at: 10.05) + Self.line(2, at: 10.3) + Self.line(3, at: 9)
            try (Self.line(-1, at: 1) + text).write(toFile: path, atomically: false, encoding: .utf8)
            var reader = ServerLogReader(path: path)
            #expect(Self.numbers(try reader.readSince(Self.base.addingTimeInterval(10))) == [0, 1, 2])
        }
    }

    @Test func whenTheCurrentFileBeginsLaterTheRotatedOneIsReadFromTheDate() throws {
        try Self.withDirectory { directory in
            let path = directory + "/server.json"
            let rotated = ServerLogReader.rotatedPath(of: path)
            try (0..<100).map { Self.line($0, at: Double($0)) }.joined().write(toFile: rotated, atomically: false, encoding: .utf8)
            try (100..<110).map { Self.line($0, at: Double($0)) }.joined().write(toFile: path, atomically: false, encoding: .utf8)
            var reader = ServerLogReader(path: path)
            #expect(Self.numbers(try reader.readSince(Self.base.addingTimeInterval(95), slack: 0)) == Array(95..<110))
            // A date inside the current file: the rotated one is not read.
            var later = ServerLogReader(path: path)
            #expect(Self.numbers(try later.readSince(Self.base.addingTimeInterval(105), slack: 0)) == Array(105..<110))
            // An empty current file (just rotated): the rotated one holds the window.
            try "".write(toFile: path, atomically: false, encoding: .utf8)
            var fresh = ServerLogReader(path: path)
            #expect(Self.numbers(try fresh.readSince(Self.base.addingTimeInterval(98), slack: 0)) == [98, 99])
        }
    }
}
