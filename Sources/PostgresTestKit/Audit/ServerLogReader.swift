import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the server's JSON log incrementally: each call returns only the complete lines
/// written since the previous one, never the whole file again.
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
