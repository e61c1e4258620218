import Dispatch
import Foundation
import Synchronization

/// Watches the embedded server's statement log while tests run, for writes the guards cannot
/// see: into the maintenance databases, or into a database the toolkit did not create (the
/// app under test writing to the developer's database instead of the test's).
///
/// One per log file per process, shared by every manager; each release reads only what was
/// logged since the last read (no round trip). The log does not say which client process or
/// test wrote, so a finding blames no test: it is reported for the run (summary, JSON,
/// annotations), noting which tests held databases at the time, and under `.fail` it fails
/// the run — the test process exits non-zero after the tests.
package final class RunLogAudit: Sendable {
    private struct State {
        var reader: ServerLogReader
        var windows: [String: (start: Date, end: Date?)] = [:]   // database → its test's window
    }
    private let state: Mutex<State>
    /// The log file watched.
    package let path: String

    private static let instances = Mutex<[String: RunLogAudit]>([:])

    /// The auditor of `logFile`, created on first use (reading from the current end).
    package static func shared(logFile: String) -> RunLogAudit {
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

    /// Marks a test's database as in use from now on (context for findings).
    package func began(_ database: String) {
        state.withLock { $0.windows[database] = (Date(), nil) }
    }

    /// Ends a test's window (its release, or a shutdown that dropped it).
    package func ended(_ database: String) {
        state.withLock { $0.windows[database]?.end = Date() }
    }

    private static let queue = DispatchQueue(label: "PostgresTestKit.RunLogAudit")

    /// The findings logged since the last read; the log is read on a queue of its own, never
    /// on the cooperative pool.
    package func scan() async -> [LifecycleViolation] {
        await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: self.scanNow()) }
        }
    }

    private func scanNow() -> [LifecycleViolation] {
        let now = Date()
        return state.withLock { state in
            let entries = (try? state.reader.readNew()) ?? []
            var findings: [LifecycleViolation] = []
            for entry in entries {
                guard var violation = Self.finding(in: entry) else { continue }
                let time = Self.parse(entry.timestamp) ?? now
                violation.time = time
                let holders = state.windows.filter { $0.value.start <= time && ($0.value.end ?? .distantFuture) >= time }
                    .map(\.key).sorted()
                violation.note = (violation.note ?? "") + (holders.isEmpty
                    ? " (logged while no test of this process held a database)"
                    : " (logged while these tests' databases were in use: \(holders.prefix(5).joined(separator: ", "))\(holders.count > 5 ? ", …" : ""))")
                findings.append(violation)
            }
            // Ended windows are kept a little (the log is written asynchronously), then forgotten.
            state.windows = state.windows.filter { $0.value.end.map { now.timeIntervalSince($0) < 10 } ?? true }
            return findings
        }
    }

    /// The violation an entry shows, if any.
    static func finding(in entry: ServerLogEntry) -> LifecycleViolation? {
        guard let statement = entry.loggedStatement, let database = entry.dbname, !database.isEmpty else { return nil }
        if (entry.applicationName ?? "").hasPrefix("pgtestkit") { return nil }   // the toolkit's own work
        if StatementClassifier.isAdministration(statement) { return nil }
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
