import Foundation

/// The audit behind `pgtestkit audit -- COMMAND`: given the databases that existed before a
/// command ran, the log entries written while it ran and, when the WAL witness works, the WAL's
/// changes between the command's start and end, finds the article's bug in any language's
/// test suite.
///
/// Heuristics (and their limits):
/// - A logged *write* is what `log_statement = mod` logged (DDL and data-modifying statements,
///   including failed ones); a multi-statement string is judged statement by statement, and
///   only its writes count. Writes inside functions called from `SELECT`, `DO`, `CALL`, writing
///   CTEs and `nextval` are not logged: only the WAL witness sees them (``WalWitness``), and it
///   sees them in the maintenance databases and in databases that existed before the command
///   (by OID), which is where a write is a finding whatever made it.
/// - A *created* database is one that did not exist before the command, or that a logged
///   `CREATE DATABASE` (re-)created. Its writes are its own business except before its schema:
///   a logged write before the first DDL logged in it is flagged — unless it was created from a
///   template other than `template0`/`template1` (a template clone is born migrated).
/// - A pre-existing database carrying the toolkit's owner marker (a published template,
///   another run's clone, the WAL witness's own) is the toolkit's, not the developer's: neither
///   its writes nor connections to it are findings.
/// - Errors are evidence: a statement that failed in a maintenance database because a table,
///   column, function or schema is missing (42P01, 42703, 42883, 3F000) is app code using the
///   admin connection (Django's `connection_created` receiver on the connection to `postgres`);
///   a write that failed so in the dev database, or in a database the command created before
///   its schema, is a write there — logged in full or, with parameters, only as the error.
/// - A connection to a pre-existing database (the dev database) is a warning: it does not fail
///   the run unless ``strict``.
/// - Not writes, in any database: administration (`CREATE`/`ALTER`/`DROP DATABASE`, roles,
///   grants; a fixture that creates its test database over a connection to the dev database),
///   and a session's own temporary tables (``SessionTemporaries``, a rule the run audit shares).
/// - A runner's kept test database (`test_<name>` that existed beside `<name>`: Django's
///   `--keepdb`) is neither the developer's nor born empty: its writes are its tests' own.
package struct CommandAudit: Sendable {
    /// A database that existed before the command.
    package struct Database: Sendable, Hashable {
        /// Its OID (what the WAL names).
        package let oid: UInt32
        /// Its name (what the log names).
        package let name: String
        /// Whether it carries the toolkit's owner marker.
        package let isToolkit: Bool

        /// A database as listed before the command.
        package init(oid: UInt32, name: String, isToolkit: Bool) {
            self.oid = oid
            self.name = name
            self.isToolkit = isToolkit
        }
    }

    /// What the audit found.
    package struct Outcome: Sendable {
        /// Findings: they fail the run.
        package var findings: [LifecycleViolation] = []
        /// Warnings: reported, not failing the run (under ``CommandAudit/strict`` they are findings).
        package var warnings: [LifecycleViolation] = []
    }

    /// The maintenance databases.
    package static let maintenance: Set<String> = ["postgres", "template1"]
    /// The SQLSTATEs of a statement that used objects its database does not have: undefined
    /// table, column, function, schema.
    package static let missingObjectStates = SQLState.missingObject
    /// The templates a database created empty comes from.
    static let emptyTemplates: Set<String> = ["template0", "template1"]

    /// Databases that existed before the command started.
    package let before: [Database]
    /// Whether warnings (connections to pre-existing databases) fail the run too.
    package let strict: Bool

    /// Creates an audit over the databases that existed before the command.
    package init(before: [Database], strict: Bool = false) {
        self.before = before
        self.strict = strict
    }

    /// The findings and warnings in `entries` and, if the witness read it, `wal` (the WAL's
    /// changes per database OID between the command's start and end, names resolved where the
    /// database is still there).
    package func audit(_ entries: [ServerLogEntry], wal: [UInt32: [WalChange]]? = nil, sequences: (before: SequenceStates, after: SequenceStates)? = nil) -> Outcome {
        var outcome = Outcome()
        let beforeByName = Dictionary(before.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var recreated: Set<String> = []        // pre-existing names a logged CREATE DATABASE made anew
        var bornMigrated: Set<String> = []     // created from a template other than template0/1
        var schemaStarted: Set<String> = []
        var warnedConnections: Set<String> = []
        var sessions: [String: [(pid: Int32?, application: String?)]] = [:]
        var loggedFindings: [String: Int] = [:]   // "pid|statement" → index in outcome.findings
        var temporaries = SessionTemporaries()
        // A runner's kept test database (Django's --keepdb: `test_<name>` beside `<name>`) is
        // neither the developer's nor born empty: its writes are its tests' own.
        let kept = Self.keptTestDatabases(before)
        bornMigrated.formUnion(kept)

        /// The database existed before the command (and was not re-created by it): the
        /// developer's, unless it carries the toolkit's marker.
        func preExisting(_ name: String) -> Database? {
            recreated.contains(name) || kept.contains(name) ? nil : beforeByName[name]
        }

        /// What is known of `database` now (``WriteRule/Standing``).
        func standing(of database: String) -> WriteRule.Standing {
            if Self.maintenance.contains(database) { return .maintenance }
            if let existing = preExisting(database) { return existing.isToolkit ? .ownedByTests : .foreign }
            return .created(migrated: schemaStarted.contains(database) || bornMigrated.contains(database))
        }

        /// A failed statement as evidence (see the type's documentation).
        func evidence(in entry: ServerLogEntry, state: SQLState, database: String, time: Date) {
            if state == .duplicateDatabase, let statement = entry.statement,
               let created = StatementClassifier.createdDatabase(statement) {
                recreated.remove(created.name)   // CREATE DATABASE failed: it already existed
            }
            let place = standing(of: database)
            guard let kind = WriteRule.judgeFailure(entry.statement, state: state, standing: place) else { return }
            let statement = entry.statement ?? "(statement not logged)"
            let note: String
            switch kind {
            case .appQueryInMaintenanceDatabase:
                note = "a statement failed in the maintenance database with SQLSTATE \(state) (\(entry.message ?? "")): app code used the admin connection and looked for the app's tables there — a connection hook (Django's connection_created) runs on the test runner's connection to \(database) too; guard it, or seed after migrations (post_migrate)"
            case .writeToForeignDatabase:
                note = "a write into a database that existed before the command (your dev database?) failed with SQLSTATE \(state) (\(entry.message ?? "")): app code aimed at it, looking for the app's tables"
            default:
                note = "a write into a database the command created failed with SQLSTATE \(state) (\(entry.message ?? "")) before its first schema DDL: a hook ran on the still-empty test database (seeding on connect); seed after the migrations"
            }
            // The logged write that failed (logged in full): one finding, with the SQLSTATE.
            if let index = loggedFindings["\(entry.pid ?? 0)|\(statement)"] {
                outcome.findings[index].sqlState = state
                if kind == .appQueryInMaintenanceDatabase { outcome.findings[index].note = note }
                return
            }
            outcome.findings.append(LifecycleViolation(
                kind: kind, phase: kind == .writeBeforeMigrations ? .connecting : nil, database: database, statement: statement,
                sqlState: state, sessionPID: entry.pid, applicationName: entry.applicationName, time: time, note: note))
        }

        for entry in entries {
            guard let database = entry.dbname, !database.isEmpty else { continue }
            let time = RunLogAudit.parse(entry.timestamp) ?? Date()
            if let target = entry.authorizedDatabase {
                // A connection entry has no application_name field yet: it is in the message.
                let application = entry.message.flatMap { message in
                    message.range(of: " application_name=").map { String(message[$0.upperBound...]) }
                }
                sessions[target, default: []].append((entry.pid, application ?? entry.applicationName))
                if let existing = preExisting(target), !existing.isToolkit, !Self.maintenance.contains(target),
                   !warnedConnections.contains(target) {
                    warnedConnections.insert(target)
                    outcome.warnings.append(LifecycleViolation(
                        kind: .connectionToForeignDatabase, phase: nil, database: target, sessionPID: entry.pid,
                        applicationName: application ?? entry.applicationName, time: time,
                        note: "the command connected to a database that existed before it started (a hook or app start-up using the dev database, or a test runner falling back to it); tests should use only the databases they create. A read: a warning (--strict makes it fail the run)"))
                }
            }
            if entry.severity == "ERROR", let state = entry.stateCode {
                evidence(in: entry, state: state, database: database, time: time)
                continue
            }
            guard let logged = entry.loggedStatement else { continue }
            let pieces = StatementClassifier.statements(of: logged)
            for statement in pieces {
                if let created = StatementClassifier.createdDatabase(statement) {
                    if beforeByName[created.name] != nil { recreated.insert(created.name) }
                    if let template = created.template, !Self.emptyTemplates.contains(template) {
                        bornMigrated.insert(created.name)
                    }
                }
                temporaries.note(statement, database: database, pid: entry.pid)
                let isWrite = pieces.count == 1 || StatementClassifier.isLoggedAsWrite(statement)
                func flag(_ kind: LifecycleViolation.Kind, phase: Phase? = nil, _ note: String) {
                    loggedFindings["\(entry.pid ?? 0)|\(statement)"] = outcome.findings.count
                    outcome.findings.append(LifecycleViolation(
                        kind: kind, phase: phase, database: database, statement: statement,
                        sessionPID: entry.pid, applicationName: entry.applicationName, time: time, note: note))
                }
                let place = standing(of: database)
                if case .created(migrated: false) = place, StatementClassifier.isSchemaDDL(statement) {
                    schemaStarted.insert(database)
                }
                let temporary = temporaries.isTemporaryWrite(statement, database: database, pid: entry.pid)
                switch WriteRule.judge(statement, isWrite: isWrite, temporary: temporary, standing: place) {
                case .writeToMaintenanceDatabase?:
                    flag(.writeToMaintenanceDatabase, "a write into the maintenance database: a connection hook or app code ran on the admin connection")
                case .writeToForeignDatabase?:
                    flag(.writeToForeignDatabase, "a write into a database that existed before the command (your dev database?): it landed there silently")
                case .writeBeforeMigrations?:
                    flag(.writeBeforeMigrations, phase: .connecting, "a write into a database the command created, before its first schema DDL: a hook ran on the still-empty test database")
                default:
                    break
                }
            }
        }

        if let wal { witness(wal, sessions: sessions, into: &outcome) }
        if let sequences { moved(sequences.before.moved(to: sequences.after), into: &outcome) }
        if strict {
            outcome.findings += outcome.warnings
            outcome.warnings = []
        }
        return outcome
    }

    /// Adds the WAL's changes in maintenance and pre-existing databases (by OID: a database
    /// re-created under the same name has another). A change on a table that a logged write in
    /// that database names confirms that finding, as does one on a relation gone by the end
    /// when there are logged writes; any other is a finding of its own, one per table.
    private func witness(_ wal: [UInt32: [WalChange]], sessions: [String: [(pid: Int32?, application: String?)]], into outcome: inout Outcome) {
        let kept = Self.keptTestDatabases(before)
        for database in before.sorted(by: { $0.oid < $1.oid }) where !database.isToolkit && !kept.contains(database.name) {
            let changes = (wal[database.oid] ?? []).filter(\.isDataChange)
            guard !changes.isEmpty else { continue }
            let maintenance = Self.maintenance.contains(database.name)
            let logged = outcome.findings.indices.filter {
                outcome.findings[$0].database == database.name
                    && [.writeToMaintenanceDatabase, .writeToForeignDatabase].contains(outcome.findings[$0].kind)
            }
            var unexplained: [String: [WalChange]] = [:]
            var order: [String] = []
            for change in changes {
                let table = change.table ?? change.relation ?? "relation \(change.relfilenode)"
                if let index = logged.first(where: { Self.statement(outcome.findings[$0].statement, names: table) }) {
                    outcome.findings[index].note = (outcome.findings[index].note ?? "") + "; the WAL confirms: \(change)"
                    continue
                }
                // A relation gone by the end (created and dropped, or rewritten) has no name to
                // match: with logged writes there, it is taken as theirs.
                if change.relation == nil, let index = logged.first {
                    outcome.findings[index].note = (outcome.findings[index].note ?? "") + "; the WAL also shows: \(change)"
                    continue
                }
                if unexplained[table] == nil { order.append(table) }
                unexplained[table, default: []].append(change)
            }
            let connected = (sessions[database.name] ?? [])
            let who = connected.isEmpty ? "no session of the command logged a connection to it (an earlier session, or its log was lost)"
                : "sessions connected to it during the command: " + connected.prefix(5).map { "\($0.application ?? "?") (pid \($0.pid.map(String.init) ?? "?"))" }.joined(separator: ", ") + (connected.count > 5 ? ", …" : "")
            for table in order {
                let seen = unexplained[table, default: []].map(\.description).joined(separator: "; ")
                outcome.findings.append(LifecycleViolation(
                    kind: maintenance ? .writeToMaintenanceDatabase : .writeToForeignDatabase, phase: nil, database: database.name,
                    statement: "unknown (seen in the WAL: \(seen))",
                    sessionPID: connected.count == 1 ? connected[0].pid : nil,
                    applicationName: connected.count == 1 ? connected[0].application : nil,
                    note: (maintenance
                        ? "a write into the maintenance database that the statement log has no line for (a function called from SELECT, a DO block, CALL, a writing CTE, nextval): app code ran on the admin connection; "
                        : "a write into a database that existed before the command (your dev database?) that the statement log has no line for (a function called from SELECT, a DO block, CALL, a writing CTE, nextval); ") + who))
            }
        }
    }

    /// Adds the sequences of maintenance and pre-existing databases that moved during the
    /// command (`nextval`, `setval`: within a sequence's logged range neither the WAL nor the
    /// statement log shows them), unless a finding in that database already names the sequence
    /// or its table.
    private func moved(_ moved: [(database: String, sequence: String, from: String, to: String)], into outcome: inout Outcome) {
        let kept = Self.keptTestDatabases(before)
        let owners = Dictionary(before.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for move in moved {
            guard let database = owners[move.database], !database.isToolkit, !kept.contains(move.database) else { continue }
            let bare = move.sequence.split(separator: ".").last.map(String.init) ?? move.sequence
            let stem = bare.hasSuffix("_seq") ? String(bare.dropLast(4)) : bare
            let table = stem.split(separator: "_").dropLast().joined(separator: "_")   // orders_id → orders
            let explained = outcome.findings.contains { finding in
                finding.database == move.database
                    && (Self.statement(finding.statement, names: bare) || Self.statement(finding.statement, names: stem)
                        || (!table.isEmpty && Self.statement(finding.statement, names: table)))
            }
            if explained { continue }
            let maintenance = Self.maintenance.contains(move.database)
            outcome.findings.append(LifecycleViolation(
                kind: maintenance ? .writeToMaintenanceDatabase : .writeToForeignDatabase, phase: nil, database: move.database,
                statement: "unknown (sequence \(move.sequence) moved from \(move.from) to \(move.to))",
                note: "nextval or setval on a sequence of a database that existed before the command"
                    + (maintenance ? " (the maintenance database: app code ran on the admin connection)" : " (your dev database?)")
                    + "; within the values a sequence already logged this leaves no WAL record and no log line: found by comparing every sequence before and after"))
        }
    }

    /// The test databases a runner kept from an earlier run (Django's `--keepdb`): a
    /// `test_<name>` that existed before the command beside a `<name>` that did too.
    static func keptTestDatabases(_ before: [Database]) -> Set<String> {
        let names = Set(before.map(\.name))
        return Set(names.filter { $0.hasPrefix("test_") && names.contains(String($0.dropFirst("test_".count))) })
    }

    /// Whether `statement` names the table `qualified` (`public.notes` → `notes`), as a word.
    static func statement(_ statement: String?, names qualified: String) -> Bool {
        guard let statement else { return false }
        let bare = qualified.split(separator: ".").last.map { $0.replacingOccurrences(of: "\"", with: "") } ?? qualified
        let words = statement.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") })
        return words.contains { $0 == bare.lowercased() }
    }
}
