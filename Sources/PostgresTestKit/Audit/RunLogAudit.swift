import Foundation
import Synchronization

/// Watches the embedded server's statement log while tests run, for writes the guards cannot
/// see: into the maintenance databases, or into a database the toolkit did not create (the
/// app under test writing to the developer's database instead of the test's).
///
/// One per log file per process, shared by every manager. Each release reads only what was
/// logged since the last read (no round trip). A finding whose time falls in exactly one
/// test's window (from acquire to release) is that test's, whoever read it: that test's
/// release throws under `.fail`. A finding logged while several tests (or none) held a
/// database cannot be pinned on one test: it is reported for the run (summary, JSON,
/// annotations) without failing a test — the log does not say which client process wrote it.
public final class RunLogAudit: Sendable {
    private struct Window {
        let start: Date
        var end: Date?
    }
    private struct State {
        var reader: ServerLogReader
        var windows: [String: Window] = [:]                  // database → its test's window
        var pending: [String: [LifecycleViolation]] = [:]    // database → findings pinned on its test
    }
    private let state: Mutex<State>
    /// The log file watched.
    public let path: String

    private static let instances = Mutex<[String: RunLogAudit]>([:])

    /// The auditor of `logFile`, created on first use (reading from the current end).
    public static func shared(logFile: String) -> RunLogAudit {
        instances.withLock { instances in
            if let existing = instances[logFile] { return existing }
            let created = RunLogAudit(path: logFile)
            instances[logFile] = created
            return created
        }
    }

    private init(path: String) {
        self.path = path
        self.state = Mutex(State(reader: ServerLogReader(path: path)))
    }

    /// Marks a test's database as in use from now on.
    public func began(_ database: String) {
        state.withLock { $0.windows[database] = Window(start: Date()) }
    }

    /// Reads what was logged since the last read and returns the findings pinned on
    /// `releasing` (the test now being released, including ones another release read) and the
    /// newly read findings no single test can be blamed for. Ends `releasing`'s window.
    public func scan(releasing: String?) -> (mine: [LifecycleViolation], others: [LifecycleViolation]) {
        let now = Date()
        return state.withLock { state in
            let entries = (try? state.reader.readNew()) ?? []
            var others: [LifecycleViolation] = []
            for entry in entries {
                guard var violation = Self.finding(in: entry) else { continue }
                let time = Self.parse(entry.timestamp) ?? now
                violation.time = time
                let running = state.windows.filter { $0.value.start <= time && ($0.value.end ?? .distantFuture) >= time }.map(\.key)
                if running.count == 1 {
                    violation.note = (violation.note ?? "") + " (logged while only this test held a database)"
                    state.pending[running[0], default: []].append(violation)
                } else {
                    violation.note = (violation.note ?? "") + (running.isEmpty
                        ? " (logged while no test of this process held a database)"
                        : " (logged while \(running.count) tests of this process were running: \(running.sorted().prefix(5).joined(separator: ", ")))")
                    others.append(violation)
                }
            }
            var mine: [LifecycleViolation] = []
            if let releasing {
                state.windows[releasing]?.end = now
                mine = state.pending.removeValue(forKey: releasing) ?? []
            }
            // Ended windows are kept a little (the log is written asynchronously), then forgotten.
            state.windows = state.windows.filter { $0.value.end.map { now.timeIntervalSince($0) < 10 } ?? true }
            return (mine, others)
        }
    }

    /// Ends a test's window without a release (its database was dropped by a shutdown) and
    /// returns the findings pinned on it, for the run's report.
    public func end(_ database: String) -> [LifecycleViolation] {
        state.withLock { state in
            state.windows[database]?.end = Date()
            return state.pending.removeValue(forKey: database) ?? []
        }
    }

    /// The violation an entry shows, if any.
    static func finding(in entry: ServerLogEntry) -> LifecycleViolation? {
        guard let statement = entry.loggedStatement, let database = entry.dbname, !database.isEmpty else { return nil }
        if (entry.applicationName ?? "").hasPrefix("pgtestkit") { return nil }   // the toolkit's own work
        if StatementClassifier.isClusterAdministration(statement) || StatementClassifier.isTemporary(statement) { return nil }
        if CommandAudit.maintenance.contains(database) {
            return LifecycleViolation(
                kind: .writeToMaintenanceDatabase, phase: nil, database: database, statement: statement,
                sessionPID: entry.pid, applicationName: entry.applicationName,
                note: "a write into the maintenance database while tests ran (found in the server log)")
        }
        if !looksLikeToolkitDatabase(database) {
            return LifecycleViolation(
                kind: .writeToForeignDatabase, phase: nil, database: database, statement: statement,
                sessionPID: entry.pid, applicationName: entry.applicationName,
                note: "a write into a database the toolkit did not create while tests ran — is the app using DATABASE_URL (the dev database) instead of the test database's url? (found in the server log)")
        }
        return nil
    }

    /// `<prefix>_<runid>_…`, `<prefix>_tpl_<hex>`, `<prefix>_tplb_<hex>_<runid>`.
    static func looksLikeToolkitDatabase(_ name: String) -> Bool {
        let parts = name.split(separator: "_").map(String.init)
        func isHex(_ s: String, _ count: Int) -> Bool { s.count == count && s.allSatisfy(\.isHexDigit) }
        if parts.contains(where: { isHex($0, 10) }) { return true }
        if let i = parts.firstIndex(of: "tpl"), i + 1 < parts.count, isHex(parts[i + 1], 16) { return true }
        return parts.contains("tplb")
    }

    /// Parses the log's `2026-11-24 15:34:09.461 UTC` (the embedded server logs in UTC).
    static func parse(_ timestamp: String) -> Date? {
        guard timestamp.hasSuffix(" UTC") else { return nil }
        return PostgresDateFormat.parse(String(timestamp.dropLast(4)) + "+00")
    }
}
