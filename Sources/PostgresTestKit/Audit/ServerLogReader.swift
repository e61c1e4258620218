import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the server's JSON log incrementally: each call returns only the complete lines
/// written since the previous one, never the whole file again. ``readSince(_:slack:)`` first
/// moves it back to a point in time (the run log audit's window opens at the process start).
///
/// It follows the log's rotation (``rotatedPath``, see `EmbeddedServer.rotateLogIfLarge`):
/// when the file at ``path`` is a new one, the rest of the old one is read first. Reads run
/// on a dispatch queue of their own, never on the cooperative pool.
package struct ServerLogReader: Sendable {
    /// The `jsonlog` file.
    package let path: String
    /// Where the next read starts.
    package private(set) var offset: UInt64
    /// The inode of the file ``offset`` points into.
    private var inode: UInt64

    /// Where a rotated log lives until the next rotation.
    package static func rotatedPath(of path: String) -> String { path + ".1" }

    private static let queue = DispatchQueue(label: "PostgresTestKit.ServerLogReader")

    /// A reader that starts at the current end of the file (or at `offset`).
    package init(path: String, offset: UInt64? = nil) {
        self.path = path
        let (inode, size) = Self.identity(of: path) ?? (0, 0)
        self.inode = inode
        self.offset = offset ?? size
    }

    /// The inode and size of `path`, without following a symlink.
    private static func identity(of path: String) -> (inode: UInt64, size: UInt64)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_ino), UInt64(info.st_size))
    }

    /// Whether the log can be read by this process.
    package var isReadable: Bool { FileManager.default.isReadableFile(atPath: path) }

    /// The entries appended since the last read, read on the reader's own queue.
    package mutating func readNewOffPool() async -> [ServerLogEntry] {
        let current = self
        let (entries, advanced) = await withCheckedContinuation { continuation in
            Self.queue.async {
                var reader = current
                let entries = (try? reader.readNew()) ?? []
                continuation.resume(returning: (entries, reader))
            }
        }
        self = advanced
        return entries
    }

    /// The entries appended since the last read (blocking file I/O: call it off the pool).
    package mutating func readNew() throws -> [ServerLogEntry] {
        var entries: [ServerLogEntry] = []
        if let current = Self.identity(of: path), current.inode != inode, inode != 0 {
            // Rotated: finish the old file (now at rotatedPath) from where we were, then start
            // the new one from its beginning.
            let rotated = Self.rotatedPath(of: path)
            if Self.identity(of: rotated)?.inode == inode { entries += try read(rotated) }
            inode = current.inode
            offset = 0
        } else if inode == 0, let current = Self.identity(of: path) {
            inode = current.inode
        }
        return entries + (try read(path))
    }

    /// Moves the reader back to the first entry logged at or after `date` and returns the
    /// entries from there to the current end (blocking file I/O: call it off the pool); later
    /// ``readNew()`` calls go on from there.
    ///
    /// When the current file begins after `date` (it was rotated since), the rotated file
    /// (``rotatedPath(of:)``) is read first, from its first entry at or after `date`. Entries
    /// are found by a binary search on their timestamps, never by reading what came before;
    /// the search starts `slack` seconds early, since backends' lines reach the file slightly
    /// out of order, and only entries at or after `date` are returned (an entry whose
    /// timestamp cannot be read is returned: the caller judges it).
    package mutating func readSince(_ date: Date, slack: TimeInterval = 1) throws -> [ServerLogEntry] {
        let from = date.addingTimeInterval(-slack)
        guard let current = Self.identity(of: path) else { return [] }
        var entries: [ServerLogEntry] = []
        let rotated = Self.rotatedPath(of: path)
        let firstCurrent = try Self.firstDate(in: path)
        if firstCurrent.map({ $0 > from }) ?? true, let old = Self.identity(of: rotated), old.inode != current.inode {
            inode = old.inode
            offset = try Self.offset(ofFirstEntryAtOrAfter: from, in: rotated)
            entries += try read(rotated)
        }
        inode = current.inode
        offset = try Self.offset(ofFirstEntryAtOrAfter: from, in: path)
        entries += try read(path)
        return entries.filter { ($0.date ?? .distantFuture) >= date }
    }

    /// The timestamp of a log line, without decoding the rest of it.
    private static func date(ofLine line: Data) -> Date? {
        let prefix = Array(#"{"timestamp":""#.utf8)
        if line.starts(with: prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return ServerLogEntry.date(fromTimestamp: String(decoding: rest[rest.startIndex..<quote], as: UTF8.self))
        }
        return (try? JSONDecoder().decode(ServerLogEntry.self, from: line))?.date
    }

    /// The timestamp of the first complete line of `file` (`nil` when it has none).
    private static func firstDate(in file: String) throws -> Date? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        return try nextLine(in: handle, from: 0)?.date
    }

    /// The first complete line starting at or after `position` (`position` itself when it is 0
    /// or follows a newline): its start and end offsets (the end past its newline) and timestamp.
    private static func nextLine(in handle: FileHandle, from position: UInt64) throws -> (start: UInt64, end: UInt64, date: Date?)? {
        let chunk = 8 * 1024
        var start = position
        var buffer = Data()
        if position > 0 {
            // Find the newline ending the line `position - 1` is in.
            try handle.seek(toOffset: position - 1)
            var searched = position - 1
            while true {
                guard let data = try handle.read(upToCount: chunk), !data.isEmpty else { return nil }
                if let newline = data.firstIndex(of: UInt8(ascii: "\n")) {
                    let after = data.index(after: newline)
                    start = searched + UInt64(data.distance(from: data.startIndex, to: after))
                    buffer = data[after...]
                    break
                }
                searched += UInt64(data.count)
            }
        } else {
            try handle.seek(toOffset: 0)
        }
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                return (start, start + UInt64(line.count) + 1, date(ofLine: Data(line)))
            }
            guard let data = try handle.read(upToCount: chunk), !data.isEmpty else { return nil }
            buffer += data
        }
    }

    /// The offset of the first line of `file` logged at or after `date` — or the end of its last
    /// complete line when there is none — found by a binary search on the lines' timestamps.
    /// A line whose timestamp cannot be read counts as at or after `date` (reading more is safe).
    package static func offset(ofFirstEntryAtOrAfter date: Date, in file: String) throws -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: file) else { return 0 }
        defer { try? handle.close() }
        let size = identity(of: file)?.size ?? 0
        // Every line starting before `low` was logged before `date`; the first one logged at
        // or after it starts at or before `high` (or after the last line looked at).
        var low: UInt64 = 0
        var high = size
        while high > low, high - low > 16 * 1024 {
            let middle = low + (high - low) / 2
            guard let line = try nextLine(in: handle, from: middle), line.start < high else {
                high = middle
                continue
            }
            if let time = line.date, time < date { low = line.end } else { high = line.start }
        }
        var position = low
        while let line = try nextLine(in: handle, from: position) {
            if line.date.map({ $0 >= date }) ?? true { return line.start }
            position = line.end
        }
        return position
    }

    private mutating func read(_ file: String) throws -> [ServerLogEntry] {
        guard let handle = FileHandle(forReadingAtPath: file) else { return [] }
        defer { try? handle.close() }
        // The server truncates its log when it starts again: follow it from the beginning.
        let size = Self.identity(of: file)?.size ?? 0
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
            entries += await readNewOffPool()
            if entries.contains(where: { $0.message == token }) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return entries.filter { $0.message != token }
    }
}
