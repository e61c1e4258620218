import Foundation
import Logging
import Synchronization

/// The start-up chores a test process does once per server, not once per manager: reaping what
/// dead runs left (once per prefix) and collecting stale templates. A suite of eight managers
/// starting at once did each eight times, competing with the template builds and adoptions
/// that the first tests wait for.
///
/// A chore runs beside the tests, not before them: no test needs it done (the reaper takes
/// dead runs' databases only, the collector no template a run holds). Begun with the session,
/// they slowed its first create by a third; begun at its first test database, a collection
/// dropping stale templates slowed the rest of a parallel suite's set-up. So a session arms
/// its chores when its first test database is out (``Trigger``), and they begin once no
/// acquire is under way in the process: after a burst's set-up, or after a lone test's.
/// ``TestDatabaseManager/shutdown()`` begins them if they were not, and waits; the process
/// exit waits for those running, a few seconds at most, so that a short process still
/// finishes its reap (it begins none). A chore that failed is said as a warning and
/// forgotten, so that the next session tries it again.
enum StartUpChores {
    /// A chore begun in this process, and whether it is still running.
    private struct Chore {
        let task: Task<Void, Never>
        var running = true
    }

    private static let chores = Mutex([String: Chore]())

    /// The acquires under way, and the armed triggers waiting for none to be: one for the
    /// process (``process``); tests make their own.
    final class Quiet: Sendable {
        fileprivate let state = Mutex((acquiring: 0, armed: [Trigger]()))

        /// An acquire begins (its wait for the session included).
        func acquireStarted() {
            state.withLock { $0.acquiring += 1 }
        }

        /// An acquire ended; the last one under way begins the armed chores.
        func acquireEnded() {
            let due = state.withLock { state -> [Trigger] in
                state.acquiring -= 1
                guard state.acquiring == 0 else { return [] }
                defer { state.armed.removeAll() }
                return state.armed
            }
            for trigger in due { trigger.fire() }
        }

        /// Forgets the armed triggers: once the process exits, no chore begins (not even when
        /// an acquire ends during the exit).
        fileprivate func disarm() {
            state.withLock { $0.armed.removeAll() }
        }
    }

    /// The process's acquires (every manager's).
    static let process = Quiet()

    /// A session's chores: armed by its first test database, begun when the process's
    /// acquires are done (or by ``fire()``); once per session, so that a chore that failed is
    /// tried again by the next session, not by every acquire.
    final class Trigger: Sendable {
        private let fired = Mutex(false)
        private let quiet: Quiet
        private let chores: @Sendable () -> Void

        init(waitingFor quiet: Quiet = StartUpChores.process, _ chores: @escaping @Sendable () -> Void) {
            self.quiet = quiet
            self.chores = chores
        }

        /// The session handed out a test database: the chores begin once no acquire is under
        /// way in the process (at once, when none is).
        func arm() {
            let now = quiet.state.withLock { state -> Bool in
                if state.acquiring == 0 { return true }
                if !state.armed.contains(where: { $0 === self }) { state.armed.append(self) }
                return false
            }
            if now { fire() }
        }

        /// Begins the chores now, the first time only.
        func fire() {
            guard fired.withLock({ fired in defer { fired = true }; return !fired }) else { return }
            chores()
        }
    }

    /// Starts `chore` once per `key` in this process, unless it is under way or done; returns
    /// at once (see the type's documentation).
    static func begin(_ key: String, logger: Logger, _ chore: @escaping @Sendable () async throws -> Void) {
        chores.withLock { chores in
            guard chores[key] == nil else { return }
            chores[key] = Chore(task: Task {
                do {
                    try await chore()
                    Self.chores.withLock { $0[key]?.running = false }
                } catch {
                    logger.warning("a start-up chore failed (\(key)); the next session tries it again: \(error)")
                    _ = Self.chores.withLock { $0.removeValue(forKey: key) }
                }
            })
        }
    }

    /// Waits for every chore started so far.
    static func settle() async {
        for chore in chores.withLock({ Array($0.values) }) { await chore.task.value }
    }

    /// Waits for the chores still running, `timeout` at most, from a thread that is not async
    /// (the process exit). `true` when they finished. It begins none: armed chores not begun
    /// yet are left to the next run (a chore begun now would log in while the exit runs, and
    /// libcrypto's own exit handler may already have freed its locks).
    @discardableResult
    static func settle(timeout: Duration) -> Bool {
        process.disarm()
        let tasks = chores.withLock { $0.values.filter(\.running).map(\.task) }
        guard !tasks.isEmpty else { return true }
        return Deadline.waitBlocking(for: timeout) {
            for task in tasks { await task.value }
        }
    }

    /// Begins the chores of a manager's session opening on `server`: reaping what dead runs
    /// of `prefixes` left (once per prefix set), and collecting templates unused for `ttl`
    /// (once per server), each on an admin connection of its own.
    static func beginReapAndCollect(
        on server: ConnectionString, serverKey: String, prefixes: [String], grace: Duration, ttl: Duration,
        runID: RunID, logger: Logger
    ) {
        begin("reap \(prefixes) \(serverKey)", logger: logger) {
            try await withChoreConnection(server, runID: runID, logger: logger) { admin in
                let reaped = try await Reaper(admin: admin, logger: logger).reap(scope: Reaper.Scope(prefixes: prefixes), grace: grace)
                if !reaped.dropped.isEmpty {
                    logger.notice("reaped \(reaped.dropped.count) database(s) left by dead runs: \(reaped.dropped.joined(separator: ", "))")
                }
                if !reaped.keptSkipped.isEmpty {
                    logger.notice("kept databases from earlier runs (pgtestkit reap --kept drops them): \(reaped.keptSkipped.joined(separator: ", "))")
                }
            }
        }
        begin("collect \(serverKey)", logger: logger) {
            try await withChoreConnection(server, runID: runID, logger: logger) { admin in
                _ = try await TemplateCollector(admin: admin, logger: logger).collect(ttl: ttl)
            }
        }
    }

    /// Runs `body` on an admin connection of its own, closed after.
    static func withChoreConnection(
        _ server: ConnectionString, runID: RunID, logger: Logger, _ body: (AdminConnection) async throws -> Void
    ) async throws {
        let admin = try await AdminConnection.connect(
            to: server, runID: runID, applicationName: runID.adminApplicationName + ":chores", logger: logger)
        do {
            try await body(admin)
            await admin.close()
        } catch {
            await admin.close()
            throw error
        }
    }
}
