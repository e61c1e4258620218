import Foundation

/// A temporary directory standing for the file system's root, where a test lays out a fake
/// Homebrew, Postgres.app or Debian tree; removed when the test lets go of it.
final class FakeRoot {
    /// The directory standing for `/`.
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appending(path: "pgtestkit-root-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `absolute` under the fake root.
    func at(_ absolute: String) -> String { path + absolute }

    /// Puts dummy `programs` in `directory` (an absolute path under the fake root), executable
    /// unless told otherwise.
    func install(_ directory: String, programs: [String] = ["initdb", "pg_ctl", "postgres"], executable: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: at(directory), withIntermediateDirectories: true)
        for program in programs {
            let file = at(directory) + "/" + program
            try "#!/bin/sh\necho 'dummy \(program)'\n".write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: file)
        }
    }

    /// A symlink at `link` (under the fake root) to `destination`, as written (relative or not).
    func symlink(_ link: String, to destination: String) throws {
        try FileManager.default.createDirectory(atPath: (at(link) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: at(link), withDestinationPath: destination)
    }
}
