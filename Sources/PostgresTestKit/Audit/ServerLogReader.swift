import Foundation

/// Reads the server's JSON log incrementally: each call returns only the complete lines
/// written since the previous one, never the whole file again.
package struct ServerLogReader: Sendable {
    /// The `jsonlog` file.
    package let path: String
    /// Where the next read starts.
    package private(set) var offset: UInt64

    /// A reader that starts at the current end of the file (or at `offset`).
    package init(path: String, offset: UInt64? = nil) {
        self.path = path
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        self.offset = offset ?? size
    }

    /// Whether the log can be read by this process.
    package var isReadable: Bool { FileManager.default.isReadableFile(atPath: path) }

    /// The entries appended since the last read.
    package mutating func readNew() throws -> [ServerLogEntry] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        // The server truncates its log when it starts again: follow it from the beginning.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        if size < offset { offset = 0 }
        try handle.seek(toOffset: offset)
        let data = try handle.readToEnd() ?? Data()
        guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = data[data.startIndex...lastNewline]
        offset += UInt64(complete.count)
        let decoder = JSONDecoder()
        return complete.split(separator: UInt8(ascii: "\n")).compactMap { line in
            try? decoder.decode(ServerLogEntry.self, from: Data(line))
        }
    }

    /// Makes the server log a unique token through `connection` and reads until it appears,
    /// so that everything logged before the call is in the returned entries.
    package mutating func readThrough(_ connection: Connection, timeout: Duration = .seconds(2)) async throws -> [ServerLogEntry] {
        let token = "pgtestkit-log-mark-\(UUID().uuidString)"
        try await connection.simpleQuery("DO $pgtk$ BEGIN RAISE LOG '\(token)'; END $pgtk$")
        var entries: [ServerLogEntry] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            entries += try readNew()
            if entries.contains(where: { $0.message == token }) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return entries.filter { $0.message != token }
    }
}
