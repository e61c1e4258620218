import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a helper program (initdb, pg_ctl, a user's command) and waits for it without
/// blocking a thread of Swift's cooperative pool.
///
/// Spawned with `posix_spawn`, closing every inherited descriptor above stderr: `pg_ctl start`
/// leaves a daemon behind, and a daemon that inherited one of our pipes would keep us waiting.
package enum Subprocess {
    package struct Output: Sendable {
        package let status: Int32
        package let output: String
        package var succeeded: Bool { status == 0 }
    }

    /// Runs `executable` with `arguments`; stdout and stderr are captured together (stdin
    /// reads nothing), or all three are ours when `captureOutput` is false.
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        captureOutput: Bool = true
    ) async throws -> Output {
        let child = try spawn(executable, arguments, environment: environment, captureOutput: captureOutput)
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                var raw: Int32 = 0
                while waitpid(child.pid, &raw, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: exitStatus(raw))
            }
        }
        return child.output(status)
    }

    /// Runs it as ``run(_:_:environment:captureOutput:)`` does, calling `tick` about every
    /// 50 ms until it exits (`pgtestkit audit` reads the WAL meanwhile).
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        captureOutput: Bool = true, whileRunning tick: () async -> Void
    ) async throws -> Output {
        let child = try spawn(executable, arguments, environment: environment, captureOutput: captureOutput)
        var raw: Int32 = 0
        while true {
            let waited = waitpid(child.pid, &raw, WNOHANG)   // never blocks
            if waited == child.pid || (waited == -1 && errno != EINTR) { break }
            await tick()
            try? await Task.sleep(for: .milliseconds(50))
        }
        return child.output(exitStatus(raw))
    }

    /// A spawned child and where its output goes.
    private struct Child {
        let pid: pid_t
        let capturePath: String?

        func output(_ status: Int32) -> Output {
            var text = ""
            if let capturePath {
                text = (try? String(contentsOfFile: capturePath, encoding: .utf8)) ?? ""
                unlink(capturePath)
            }
            return Output(status: status, output: text)
        }
    }

    /// The exit status of a `waitpid` status word (128 + the signal for a killed child).
    private static func exitStatus(_ raw: Int32) -> Int32 {
        raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]?, captureOutput: Bool
    ) throws -> Child {
        let capturePath = NSTemporaryDirectory() + "pgtestkit-\(UUID().uuidString).out"
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        if captureOutput {
            posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&fileActions, 1, capturePath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        }
        #if canImport(Glibc)
        closeInheritedDescriptors(&fileActions)
        #endif
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        #if canImport(Darwin)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_CLOEXEC_DEFAULT))
        #endif
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw TestKitError(.subprocessFailed, "could not run \(executable): \(String(cString: strerror(spawned)))")
        }
        return Child(pid: pid, capturePath: captureOutput ? capturePath : nil)
    }

    #if canImport(Glibc)
    /// `posix_spawn_file_actions_addclosefrom_np(actions, 3)` (glibc 2.34+), looked up at run
    /// time because Swift's Glibc module does not export it.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
    }
    #endif

    /// Finds an executable on `PATH`.
    package static func which(_ name: String) -> String? {
        let path = ToolkitSettings.process.path
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
