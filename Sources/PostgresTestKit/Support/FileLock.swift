import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock(2)` on a file, shared by every process on the machine.
///
/// The kernel drops the lock when the holder exits, so a killed process never leaves a stale
/// lock behind. Waiting happens on a dispatch thread, not on the cooperative pool.
struct FileLock: Sendable {
    let path: String

    /// Runs `body` while holding the lock, waiting at most `timeout` seconds for it.
    func withLock<T: Sendable>(timeout: Double = 120, _ body: () async throws -> T) async throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw TestKitError(.serverStartFailed, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else {
                throw TestKitError(.timeout, "waited \(Int(timeout)) s for the lock \(path); another process holds it. Is a pgtestkit process hanging?")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}
