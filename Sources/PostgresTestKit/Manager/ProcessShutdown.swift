import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The one owner of a test process's shutdown: it registers the exit hook and takes the
/// steps of ``ShutdownSequence`` — ``ExitCleanup``, then ``RunReport``, then the failure.
///
/// The hook is registered when the report is first updated, and once more after the first
/// database on each server, so that it runs before the `atexit` handlers that libraries
/// registered during that login (libpq's SCRAM and MD5 authentication initialise libcrypto,
/// whose cleanup frees its locks: a cleanup running after it crashed the exiting process on
/// its next password login). The XCTest adapter shuts down earlier, when the bundle finishes.
package final class ProcessShutdown: Sendable {
    /// The shutdown of this process.
    package static let shared = ProcessShutdown()

    /// The failure recorded or printed when the run audit has findings no test could be blamed
    /// for (writes the statement log or the WAL showed, a stretch of WAL not audited), under
    /// audit policy `.fail`.
    package static let runFailureMessage = "PostgresTestKit: failing the run — the run audit has findings listed in the summary that no test could be blamed for (writes the server log or the WAL showed, or WAL it could not read; audit policy fail). Set PGTESTKIT_AUDIT=warn to report them without failing."

    /// The servers the hook was registered after, and whether it was registered at all.
    private let hooks = Mutex((servers: Set<[String: String]>(), registered: false))
    private let sequence = Mutex(ShutdownSequence())
    /// The run audit's last reads, one per manager that prepared (``registerFinalRead(for:policy:_:)``).
    private let finalReads = Mutex([ObjectIdentifier: FinalRead]())

    /// A manager's last read of the run audit, and the policy its findings are judged by.
    private struct FinalRead: Sendable {
        let policy: AuditPolicy
        let read: @Sendable () async -> Void
    }

    /// How long the exit waits for the final reads before it says what went unaudited.
    static let finalReadTimeout: Duration = .seconds(20)

    /// Registers `owner`'s last read of the run audit (the statement log and the WAL up to
    /// now, its findings recorded), which the shutdown runs before the cleanup drops the WAL
    /// witness; a later registration for the same owner replaces it.
    package func registerFinalRead(for owner: AnyObject, policy: AuditPolicy, _ read: @escaping @Sendable () async -> Void) {
        finalReads.withLock { $0[ObjectIdentifier(owner)] = FinalRead(policy: policy, read: read) }
    }

    /// Forgets `owner`'s final read (its ``TestDatabaseManager/shutdown()`` read the audit itself).
    package func unregisterFinalRead(for owner: AnyObject) {
        _ = finalReads.withLock { $0.removeValue(forKey: ObjectIdentifier(owner)) }
    }

    /// Runs the registered final reads at once and waits for them, `timeout` at most: the
    /// exit has no async context, so they run in a task of their own while this thread waits.
    /// When they do not finish in time, the run's report says that the end of the run went
    /// unaudited, and under `.fail` that fails the run.
    func runFinalReads(timeout: Duration = ProcessShutdown.finalReadTimeout) {
        let reads = finalReads.withLock { reads in
            defer { reads.removeAll() }
            return Array(reads.values)
        }
        guard !reads.isEmpty else { return }
        let finished = Deadline.waitBlocking(for: timeout) {
            await withTaskGroup(of: Void.self) { group in
                for final in reads { group.addTask { await final.read() } }
            }
        }
        guard !finished else { return }
        let policies = Set(reads.map(\.policy))
        guard policies != [.off] else { return }
        RunReport.shared.add(LifecycleViolation(
            kind: .walNotAudited, phase: nil, database: "*",
            statement: "the end of the run (the last release to the exit)",
            note: "the run audit's final read of the statement log and the WAL did not finish within \(timeout.components.seconds) s of the exit (a server that stopped answering, or a WAL read that long): writes made in that stretch were not audited. Look for a server that was stopped or overloaded at the end of the run."))
        if policies.contains(.fail) { RunReport.shared.update { $0.failsRun = true } }
    }

    /// Registers the exit hook once; and once more after the first connection to each
    /// `server` (see the type's documentation). Every registration runs the same sequence,
    /// whose later runs find nothing left to do.
    func installExitHook(after server: [String: String]? = nil) {
        let register = hooks.withLock { state -> Bool in
            if let server {
                guard state.servers.insert(server).inserted else { return false }
                state.registered = true
                return true
            }
            defer { state.registered = true }
            return !state.registered
        }
        guard register else { return }
        atexit {
            _ = ProcessShutdown.shared.shutDown(.processExit)
        }
    }

    /// Takes the steps due for `trigger` and returns the failure the framework must record
    /// (only for ``ShutdownSequence/Trigger/testsFinished``, and only when the run fails).
    /// Under ``ShutdownSequence/Trigger/processExit`` a failing run ends the process here.
    package func shutDown(_ trigger: ShutdownSequence.Trigger) -> String? {
        for step in sequence.withLock({ $0.steps(on: trigger) }) { take(step) }
        // Decided after the steps: the final read may be what fails the run.
        let runFails = RunReport.shared.snapshot.failsRun
        guard let last = sequence.withLock({ $0.failure(on: trigger, runFails: runFails) }) else { return nil }
        take(last)
        return Self.runFailureMessage   // .recordFailure: the framework records it (.exitWithFailure never returns)
    }

    private func take(_ step: ShutdownSequence.Step) {
        switch step {
        case .finalAudit:
            runFinalReads()
        case .cleanup:
            // The start-up chores under way (a reap, a collection) finish first, bounded: they
            // may be dropping what a dead run left, and a short process is often the only one
            // to. (Here, not in the cleanup itself: a cleanup of its own that a test runs on
            // the cooperative pool must not block a thread of it waiting for them.)
            StartUpChores.settle(timeout: .seconds(5))
            ExitCleanup.shared.run()
        case .report:
            RunReport.shared.printReport()
        case .recordFailure:
            break
        case .exitWithFailure:
            FileHandle.standardError.write(Data((Self.runFailureMessage + "\n").utf8))
            fflush(nil)
            // exit() may not be called again from an atexit handler; the handlers still
            // to run (registered before this one) are skipped.
            _exit(1)
        }
    }
}
