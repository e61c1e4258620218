import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Watches the embedded server's statement log for the whole test process, for writes the
/// guards cannot see: into the maintenance databases, or into a database the toolkit did not
/// create (the app under test writing to the developer's database instead of the test's).
///
/// The window opens when the test process started (``ProcessStartTime``), not at the first
/// acquire: a write into the dev database made in a test's set-up before the process's first
/// acquire is flagged the same as one after it, while entries logged before the process
/// started (another process's, or an earlier run's) are never this process's. The first
/// read goes back to the first entry logged at or after the process start — in the rotated
/// log as well when the current file begins later — and each later one reads only what was
/// logged since the previous read (no round trip).
///
/// One per log file per process, shared by every manager. The log does not say which client
/// process or test wrote, so a finding blames no test: it is reported for the run (summary,
/// JSON, annotations), noting which tests held databases at the time, and under `.fail` it
/// fails the run — the test process exits non-zero after the tests.
package final class RunLogAudit: Sendable {
    private struct State {
        var reader: ServerLogReader
        /// Whether the reader was moved back to the window's start (done by the first scan,
        /// on the audit's queue: it reads the file).
        var positioned = false
        var windows: [String: (start: Date, end: Date?)] = [:]   // database → its test's window
        /// When this process's first test database was handed out.
        var firstBegan: Date?
        /// Databases the toolkit's own sessions were seen creating in the log (scratch
        /// databases of any name): not foreign.
        var createdByToolkit: Set<String> = []
        /// The temporary tables each session made: writes into them are not findings.
        var temporaries = SessionTemporaries()
        /// The statements of the findings reported lately, per database (the WAL audit's
        /// changes on the tables they name are theirs), the last 50 of each.
        var reported: [String: [String]] = [:]
    }
    private let state: Mutex<State>
    /// The log file watched.
    package let path: String
    /// The window's start given to ``init(path:since:)``; `nil`: the process start.
    private let start: Date?
    /// Where the window opens: entries logged before it are not looked at. The process start
    /// is read from the system on first use (the first scan, on the audit's own queue).
    package var since: Date { start ?? ProcessStartTime.date }

    private static let instances = Mutex<[String: RunLogAudit]>([:])

    /// The auditor of `logFile`, created on first use; its window opens at the process start.
    package static func shared(logFile: String) -> RunLogAudit {
        instances.withLock { instances in
            if let existing = instances[logFile] { return existing }
            let created = RunLogAudit(path: logFile, since: nil)
            instances[logFile] = created
            return created
        }
    }

    /// An auditor of `path` whose window opens at `since`, or at the process start when it is
    /// `nil` (``shared(logFile:)`` is the one a process uses; this one is for tests).
    package init(path: String, since: Date?) {
        self.path = path
        self.start = since
        self.state = Mutex(State(reader: ServerLogReader(path: path)))
    }

    /// Marks a test's database as in use from now on (context for findings).
    package func began(_ database: String) {
        let now = Date()
        state.withLock { state in
            state.windows[database] = (now, nil)
            if state.firstBegan == nil { state.firstBegan = now }
        }
    }

    /// Ends a test's window (its release, or a shutdown that dropped it).
    package func ended(_ database: String) {
        state.withLock { $0.windows[database]?.end = Date() }
    }

    private static let queue = DispatchQueue(label: "PostgresTestKit.RunLogAudit")

    /// The findings logged since the last read — the first time, since the window opened; the
    /// log is read on a queue of its own, never on the cooperative pool.
    ///
    /// A write into a database whose creation the log did not show is a finding only if the
    /// database carries no owner marker: `admin` looks the markers up (one query, only when
    /// there is such a write). Without it, or when the database is gone by then, the shape of
    /// the toolkit's names decides.
    package func scan(checkingMarkersWith admin: AdminConnection? = nil) async -> [LifecycleViolation] {
        let candidates = await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: self.scanNow()) }
        }
        let unknown = Set(candidates.filter { $0.kind == .writeToForeignDatabase }.map(\.database))
        var existing: [CommandAudit.Database]?
        if !unknown.isEmpty, let admin {
            existing = try? await admin.databases(names: unknown.sorted())
        }
        let findings = Self.confirmed(candidates, existing: existing)
        state.withLock { state in
            for finding in findings {
                guard let statement = finding.statement else { continue }
                state.reported[finding.database, default: []].append(statement)
                if state.reported[finding.database, default: []].count > 50 { state.reported[finding.database]?.removeFirst() }
            }
        }
        return findings
    }

    /// The statements of the findings this audit reported lately in `database`.
    package func loggedStatements(in database: String) -> [String] {
        state.withLock { $0.reported[database] ?? [] }
    }

    /// `candidates` without the writes into databases that are the toolkit's after all:
    /// those `existing` (the databases found now, `nil` when they could not be looked up)
    /// lists with an owner marker, and those it does not list (gone by now, or not looked
    /// up) whose names have the toolkit's shape.
    static func confirmed(_ candidates: [LifecycleViolation], existing: [CommandAudit.Database]?) -> [LifecycleViolation] {
        let found = Dictionary((existing ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return candidates.filter { candidate in
            guard candidate.kind == .writeToForeignDatabase else { return true }
            if let database = found[candidate.database] { return !database.isToolkit }
            return !looksLikeToolkitDatabase(candidate.database)
        }
    }

    private func scanNow() -> [LifecycleViolation] {
        let now = Date()
        let since = self.since
        return state.withLock { state in
            let entries: [ServerLogEntry]
            if state.positioned {
                entries = (try? state.reader.readNew()) ?? []
            } else {
                entries = (try? state.reader.readSince(since)) ?? []
                state.positioned = true
            }
            var findings: [LifecycleViolation] = []
            var written: [String: Int] = [:]   // "pid|statement" of a logged write → its finding
            for entry in entries {
                if let created = Self.databaseCreatedByToolkit(in: entry) { state.createdByToolkit.insert(created) }
                if let statement = entry.loggedStatement, let database = entry.dbname {
                    state.temporaries.note(statement, database: database, pid: entry.pid)
                    if state.temporaries.isTemporaryWrite(statement, database: database, pid: entry.pid) { continue }
                }
                guard var violation = Self.finding(in: entry, createdByToolkit: state.createdByToolkit) else { continue }
                let time = entry.date ?? now
                guard time >= since else { continue }   // before this process started: not its window
                violation.time = time
                let holders = state.windows.filter { $0.value.start <= time && ($0.value.end ?? .distantFuture) >= time }
                    .map(\.key).sorted()
                let context: String
                if !holders.isEmpty {
                    context = " (logged while these tests' databases were in use: \(holders.prefix(5).joined(separator: ", "))\(holders.count > 5 ? ", …" : ""))"
                } else if time < (state.firstBegan ?? .distantFuture) {
                    context = " (logged before this process's first test database was handed out: in the set-up of the test process or of its first test)"
                } else {
                    context = " (logged while no test of this process held a database)"
                }
                violation.note = (violation.note ?? "") + context
                let key = "\(entry.pid ?? 0)|\(violation.statement ?? "")"
                if violation.kind == .appQueryInMaintenanceDatabase, let index = written[key] {
                    findings[index].sqlState = violation.sqlState   // the logged write that failed: one finding
                    findings[index].note = violation.note
                    continue
                }
                if violation.kind == .writeToMaintenanceDatabase { written[key] = findings.count }
                findings.append(violation)
            }
            // Ended windows are kept a little (the log is written asynchronously), then forgotten.
            state.windows = state.windows.filter { $0.value.end.map { now.timeIntervalSince($0) < 10 } ?? true }
            return findings
        }
    }

    /// The violation an entry shows, if any; `createdByToolkit` are databases the toolkit was
    /// seen creating (see ``databaseCreatedByToolkit(in:)``), whatever their names. A write
    /// into any other database is a candidate that ``confirmed(_:existing:)`` checks against
    /// the owner markers.
    static func finding(in entry: ServerLogEntry, createdByToolkit: Set<String> = []) -> LifecycleViolation? {
        if isToolkitSession(entry) { return nil }   // the toolkit's own work
        guard let database = entry.dbname, !database.isEmpty else { return nil }
        // The judgement is the one `pgtestkit audit` makes (WriteRule); the standing is this
        // audit's: the toolkit's databases are those it was seen creating, or (confirmed later)
        // those with its owner marker.
        let standing: WriteRule.Standing = CommandAudit.maintenance.contains(database) ? .maintenance
            : createdByToolkit.contains(database) ? .ownedByTests : .foreign
        if entry.severity == "ERROR", let state = entry.stateCode {
            switch WriteRule.judgeFailure(entry.statement, state: state, standing: standing) {
            case .appQueryInMaintenanceDatabase?: return appQueryInMaintenanceDatabase(entry)
            case .writeToForeignDatabase?:
                return LifecycleViolation(
                    kind: .writeToForeignDatabase, phase: nil, database: database, statement: entry.statement, sqlState: state,
                    sessionPID: entry.pid, applicationName: entry.applicationName,
                    note: "a write into a database the toolkit did not create failed during the test process with SQLSTATE \(state) (\(entry.message ?? "")): app code aimed at it — the dev database? — looking for the app's tables (found in the server log)")
            default: return nil
            }
        }
        guard let statement = entry.loggedStatement else { return nil }
        switch WriteRule.judge(statement, standing: standing) {
        case .writeToMaintenanceDatabase?:
            return LifecycleViolation(
                kind: .writeToMaintenanceDatabase, phase: nil, database: database, statement: statement,
                sessionPID: entry.pid, applicationName: entry.applicationName,
                note: "a write into the maintenance database during the test process (found in the server log)")
        case .writeToForeignDatabase?:
            return LifecycleViolation(
                kind: .writeToForeignDatabase, phase: nil, database: database, statement: statement,
                sessionPID: entry.pid, applicationName: entry.applicationName,
                note: "a write into a database the toolkit did not create during the test process — is the app using DATABASE_URL (the dev database) instead of the test database's url? (found in the server log)")
        default:
            return nil
        }
    }

    /// Errors are evidence: a statement that failed in a maintenance database because a
    /// table, column, function or schema is not there (``SQLState/missingObject``) is app code
    /// on an admin connection looking for the app's tables — the article's hook when the dev
    /// database is absent, whose `SELECT … FOR UPDATE` no statement log shows as a write.
    static func appQueryInMaintenanceDatabase(_ entry: ServerLogEntry) -> LifecycleViolation? {
        guard entry.severity == "ERROR", let state = entry.stateCode, SQLState.missingObject.contains(state),
              let database = entry.dbname, CommandAudit.maintenance.contains(database) else { return nil }
        return LifecycleViolation(
            kind: .appQueryInMaintenanceDatabase, phase: nil, database: database,
            statement: entry.statement ?? "(statement not logged)", sqlState: state,
            sessionPID: entry.pid, applicationName: entry.applicationName,
            note: "a statement failed in the maintenance database during the test process (\(entry.message ?? state.rawValue)): app code used an admin connection and looked for the app's tables there — a connection hook runs on every connection, the admin one too; guard it, or seed after migrations (a Seeder)")
    }

    /// Whether the entry comes from one of the toolkit's own sessions (any process's).
    static func isToolkitSession(_ entry: ServerLogEntry) -> Bool {
        (entry.applicationName ?? "").hasPrefix("pgtestkit")
    }

    /// The database a toolkit session's `CREATE DATABASE` made (an admin connection's scratch
    /// or clone database, whose name need not look like the toolkit's).
    static func databaseCreatedByToolkit(in entry: ServerLogEntry) -> String? {
        guard isToolkitSession(entry), let statement = entry.loggedStatement else { return nil }
        return createdDatabase(in: statement)
    }

    /// The name `CREATE DATABASE name …` creates: a quoted identifier as written (`""` is a
    /// quote), a bare one folded to lower case.
    static func createdDatabase(in statement: String) -> String? {
        let words = statement.trimmed.split(maxSplits: 2, whereSeparator: \.isWhitespace)
        guard words.count == 3, words[0].uppercased() == "CREATE", words[1].uppercased() == "DATABASE" else { return nil }
        let rest = words[2]
        if rest.first == "\"" {
            var name = ""
            var index = rest.index(after: rest.startIndex)
            while index < rest.endIndex {
                let character = rest[index]
                index = rest.index(after: index)
                if character == "\"" {
                    guard index < rest.endIndex, rest[index] == "\"" else { return name.isEmpty ? nil : name }
                    index = rest.index(after: index)
                }
                name.append(character)
            }
            return nil   // unterminated
        }
        let name = rest.prefix { !$0.isWhitespace && $0 != ";" }
        return name.isEmpty ? nil : name.lowercased()
    }

    /// `<prefix>_<runid>_…`, `<prefix>_tpl_<hex>`, `<prefix>_tplb_<hex>_<runid>`: the
    /// fallback for a database gone before its marker could be read.
    static func looksLikeToolkitDatabase(_ name: String) -> Bool {
        let parts = name.split(separator: "_").map(String.init)
        func isHex(_ s: String, _ count: Int) -> Bool { s.count == count && s.allSatisfy(\.isHexDigit) }
        if parts.contains(where: { isHex($0, 10) }) { return true }
        if let i = parts.firstIndex(of: "tpl"), i + 1 < parts.count, isHex(parts[i + 1], 16) { return true }
        return parts.contains("tplb")
    }

    /// Parses the log's `2026-11-24 15:34:09.461 UTC` (the embedded server logs in UTC).
    static func parse(_ timestamp: String) -> Date? {
        ServerLogEntry.date(fromTimestamp: timestamp)
    }
}
