import Foundation

/// The identity of the running test executable — path, size and modification time — which
/// keys the template of Swift-code migrations that carry no fingerprint of their own.
///
/// Any rebuild of the test binary changes it, so a changed Swift migration can never run on a
/// stale template; hashing the binary's contents would cost a second per run on a large
/// Vapor test bundle for the same answer.
enum ExecutableIdentity {
    /// `path:size:mtime-nanoseconds` of the test binary.
    static func current() throws -> String {
        guard let path = executablePath() else {
            throw TestKitError(.configuration, "cannot tell which executable is running, so Swift-code migrations have no default fingerprint; pass SchemaMigrations.closure(fingerprint:) a string you change with the schema.")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw TestKitError(.configuration, "cannot read \(path) (\(String(cString: strerror(errno)))) to fingerprint Swift-code migrations; pass SchemaMigrations.closure(fingerprint:).")
        }
        #if canImport(Darwin)
        let modified = Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        #else
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        #endif
        return "\(path):\(info.st_size):\(modified)"
    }

    /// The binary holding the tests: on Linux the process itself (`swift test` runs the
    /// `.xctest` executable); on macOS the loaded `.xctest` bundle's binary, else the process.
    private static func executablePath() -> String? {
        #if os(Linux)
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        #endif
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }), let path = bundle.executablePath {
            return path
        }
        return Bundle.main.executablePath ?? CommandLine.arguments.first
    }
}
