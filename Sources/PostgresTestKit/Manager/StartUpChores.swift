import Foundation
import Logging
import Synchronization

/// The start-up chores a test process does once per server, not once per manager: reaping what
/// dead runs left (once per prefix) and collecting stale templates. A suite of eight managers
/// starting at once did each eight times, competing with the template builds and adoptions
/// that the first tests wait for.
///
/// A chore runs beside the tests, not before them: no test needs it done (the reaper takes
/// dead runs' databases only, the collector no template a run holds), and it cost every first
/// test a reap and a collection. A session begins its chores once its first test database is
/// handed out (``Trigger``): begun with the session, they slowed that first create by a third
/// (their connections and listings compete with it on the server). ``TestDatabaseManager/shutdown()`` and the process exit wait
/// for the chores under way (the exit a few seconds at most), so that a short process still
/// finishes its reap. A chore that failed is said as a warning and forgotten, so that the next
/// session tries it again.
enum StartUpChores {
    private static let chores = Mutex([String: Task<Void, Never>]())

    /// A session's chores, begun by its first ``fire()`` (the first test database handed out,
    /// or the session's shutdown): once per session, so that a chore that failed is tried
    /// again by the next session, not by every acquire.
    final class Trigger: Sendable {
        private let fired = Mutex(false)
        private let chores: @Sendable () -> Void

        init(_ chores: @escaping @Sendable () -> Void) { self.chores = chores }

        /// Begins the chores, the first time only.
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
            chores[key] = Task {
                do {
                    try await chore()
                } catch {
                    logger.warning("a start-up chore failed (\(key)); the next session tries it again: \(error)")
                    _ = Self.chores.withLock { $0.removeValue(forKey: key) }
                }
            }
        }
    }

    /// Waits for every chore started so far.
    static func settle() async {
        for task in chores.withLock({ Array($0.values) }) { await task.value }
    }

    /// Waits for every chore started so far, `timeout` at most, from a thread that is not
    /// async (the process exit). `true` when they finished.
    @discardableResult
    static func settle(timeout: Duration) -> Bool {
        let tasks = chores.withLock { Array($0.values) }
        guard !tasks.isEmpty else { return true }
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            for task in tasks { await task.value }
            finished.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return finished.wait(timeout: .now() + seconds) == .success
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
