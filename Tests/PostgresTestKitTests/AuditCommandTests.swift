import Foundation
import Testing
@testable import PostgresTestKit

/// `pgtestkit audit -- COMMAND`, run for real with `psql`, against an embedded server of its
/// own: the audit reads the whole server's log and WAL, so the other tests' traffic must not be
/// there. With `PGTESTKIT_PG_BINDIR` the server is that PostgreSQL (the CLI inherits it).
@Suite("pgtestkit audit (server-log and WAL audit of any command)", .serialized)
struct AuditCommandTests {
    static let dataDirectory = "/dev/shm/pgtestkit-audit-tests-\(getuid())"

    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_DATA_DIR"] = dataDirectory
        return environment
    }

    func server() async throws -> EmbeddedServer {
        let server = try await EmbeddedServer.locate(environment: Self.environment)
        try await server.start(logger: TestSupport.logger)
        return server
    }

    struct Run {
        let status: Int32
        let output: String
    }

    /// The `pgtestkit` of this build: beside the test bundle (any `--scratch-path`), else `.build/debug`.
    static let executable: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let candidates = [
            bundle.deletingLastPathComponent().appendingPathComponent("pgtestkit").path,
            bundle.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("pgtestkit").path,   // macOS: …/x.xctest/Contents/MacOS/x
        ]
        return candidates.first(where: FileManager.default.isExecutableFile(atPath:)) ?? TestSupport.cli
    }()

    func audit(_ script: String, database: String = "postgres", options: [String] = [], environment: [String: String]? = nil) async throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: Self.executable), "build the pgtestkit product first (scripts/test does)")
        let output = try await Subprocess.run(
            Self.executable, ["audit", "--database", database] + options + ["--", "/bin/sh", "-c", script],
            environment: environment ?? Self.environment)
        return Run(status: output.status, output: output.output)
    }

    func embeddedOnly() async throws -> Bool {
        try #require(Subprocess.which("psql") != nil, "psql (postgresql-client) is needed; scripts/test installs it")
        return true
    }

    /// The outer audit's report in `output`: from its summary line (`pgtestkit audit: N log
    /// entries read`) on; what comes before it is the command's own output and the audit's
    /// other lines (the WAL witness's absence may print before or after the command's output).
    static func report(in output: String) -> (command: String, report: String) {
        guard let summary = output.range(of: #"pgtestkit audit: \d+ log entries read"#, options: .regularExpression) else {
            return (output, "")
        }
        return (String(output[..<summary.lowerBound]), String(output[summary.lowerBound...]))
    }

    /// Whether the audit server has pg_walinspect (the WAL witness works).
    func witnessAvailable() async throws -> Bool {
        let connection = try await Connection.connect(to: try await server().connectionString)
        let count = try await connection.scalar("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_walinspect'", as: Int.self)
        let version = await connection.serverVersion
        await connection.close()
        return count > 0 && version >= 150000
    }

    /// ``witnessAvailable()``, saying so when a test is skipped for want of it.
    func witnessAvailableOrSkip(_ test: String = #function) async throws -> Bool {
        if try await witnessAvailable() { return true }
        print("skipped \(test): the audit server has no pg_walinspect")
        return false
    }

    /// The schema the escape attempts misuse: a table, a writing function and procedure, a
    /// sequence, a read-only function and procedure.
    static let schema = """
        CREATE TABLE IF NOT EXISTS audit_notes (id serial PRIMARY KEY, body text);
        CREATE SEQUENCE IF NOT EXISTS audit_counter;
        CREATE OR REPLACE FUNCTION audit_remember(t text) RETURNS void LANGUAGE sql AS $$ INSERT INTO audit_notes (body) VALUES (t) $$;
        CREATE OR REPLACE PROCEDURE audit_remember_proc(t text) LANGUAGE sql AS $$ INSERT INTO audit_notes (body) VALUES (t) $$;
        CREATE OR REPLACE FUNCTION audit_peek() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM audit_notes $$;
        CREATE OR REPLACE PROCEDURE audit_peek_proc() LANGUAGE plpgsql AS $$ BEGIN PERFORM count(*) FROM audit_notes; END $$;
        """
    static let dropSchema = """
        DROP FUNCTION IF EXISTS audit_remember(text); DROP PROCEDURE IF EXISTS audit_remember_proc(text);
        DROP FUNCTION IF EXISTS audit_peek(); DROP PROCEDURE IF EXISTS audit_peek_proc();
        DROP TABLE IF EXISTS audit_notes; DROP SEQUENCE IF EXISTS audit_counter;
        """

    /// A migrated "dev" database that exists before the command, dropped afterwards.
    func withDevDatabase(_ body: (String) async throws -> Void) async throws {
        let server = try await server()
        let dev = TestSupport.uniquePrefix("devdb")
        let setup = try await Connection.connect(to: server.connectionString)
        try await setup.execute("CREATE DATABASE \(dev)")
        let connection = try await Connection.connect(to: server.connectionString, database: dev)
        try await connection.simpleQuery(Self.schema)
        await connection.close()
        do { try await body(dev) } catch {
            _ = try? await setup.execute("DROP DATABASE \(dev) WITH (FORCE)")
            throw error
        }
        try await setup.execute("DROP DATABASE \(dev) WITH (FORCE)")
        await setup.close()
    }

    /// The same schema in `postgres` (the escape attempts' other target), dropped afterwards.
    func withSchemaInPostgres(_ body: () async throws -> Void) async throws {
        let postgres = try await Connection.connect(to: try await server().connectionString)
        try await postgres.simpleQuery(Self.schema)
        do { try await body() } catch {
            _ = try? await postgres.simpleQuery(Self.dropSchema)
            throw error
        }
        try await postgres.simpleQuery(Self.dropSchema)
        await postgres.close()
    }

    /// Writes that `log_statement = mod` does not log, and what each must be seen as.
    static let unloggedWrites: [(name: String, sql: String, table: String)] = [
        ("function called from SELECT", "SELECT audit_remember('via SELECT')", "public.audit_notes"),
        ("DO block", "DO \\$\\$ BEGIN INSERT INTO audit_notes (body) VALUES ('via DO'); END \\$\\$", "public.audit_notes"),
        ("CALL", "CALL audit_remember_proc('via CALL')", "public.audit_notes"),
        ("writing CTE", "WITH w AS (INSERT INTO audit_notes (body) VALUES ('via CTE') RETURNING id) SELECT count(*) FROM w", "public.audit_notes"),
        ("nextval", "SELECT nextval('audit_counter')", "public.audit_counter"),
    ]

    // MARK: - The statement log

    @Test func flagsAWriteToTheMaintenanceDatabase() async throws {
        guard try await embeddedOnly() else { return }
        let run = try await audit("psql -q -c 'CREATE TABLE audit_oops (x int)' && psql -q -c 'DROP TABLE audit_oops'")
        #expect(run.status != 0)
        #expect(run.output.contains("write_to_maintenance_database in database postgres: CREATE TABLE audit_oops"))
    }

    @Test func passesACleanScript() async throws {
        guard try await embeddedOnly() else { return }
        let name = TestSupport.uniquePrefix("auditclean")
        let run = try await audit("createdb \(name) && psql -q -d \(name) -c 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)' && dropdb \(name)")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("0 finding(s); 0 warning(s)"))
    }

    /// The worst form of the article's bug: the developer's migrated dev database exists, and
    /// the test set-up's hook writes land in it silently.
    @Test func flagsWritesToADatabaseThatExistedBeforeAndWarnsOfConnectionsToIt() async throws {
        guard try await embeddedOnly() else { return }
        try await withDevDatabase { dev in
            let run = try await audit("psql -q -c \"INSERT INTO audit_notes (body) VALUES ('sync_on_connect')\"", database: dev)
            #expect(run.status != 0)
            #expect(run.output.contains("⚠ connection_to_foreign_database in database \(dev)"))
            #expect(run.output.contains("✗ write_to_foreign_database in database \(dev): INSERT INTO audit_notes"))
            if try await witnessAvailable() {   // the WAL confirms the logged write: one finding, not two
                #expect(run.output.contains("the WAL confirms: Heap/INSERT"), "\(run.output)")
                #expect(!run.output.contains("unknown (seen in the WAL"), "\(run.output)")
            }
        }
    }

    @Test func flagsAWriteIntoACreatedDatabaseBeforeItsSchema() async throws {
        guard try await embeddedOnly() else { return }
        let name = TestSupport.uniquePrefix("auditearly")
        let run = try await audit("""
            createdb \(name); psql -q -d \(name) -c "INSERT INTO notification_types VALUES ('x')" 2>/dev/null; \
            psql -q -d \(name) -c 'CREATE TABLE notification_types (name text)'; dropdb \(name)
            """)
        #expect(run.status != 0)
        #expect(run.output.contains("write_before_migrations in database \(name) during phase connecting: INSERT INTO notification_types"))
    }

    /// A database created from a template is born migrated: writing into it at once is what a
    /// test does (item 5 of issue #11). Its twin, created empty, is flagged above.
    @Test func aDatabaseCreatedFromATemplateIsBornMigrated() async throws {
        guard try await embeddedOnly() else { return }
        try await withDevDatabase { dev in
            let clone = TestSupport.uniquePrefix("auditclone")
            let writes = ["INSERT INTO audit_notes (body) VALUES ('logged insert')"] + Self.unloggedWrites.map(\.sql)
            let script = "createdb -T \(dev) \(clone) && " + writes.map { "psql -q -d \(clone) -c \"\($0)\" >/dev/null" }.joined(separator: " && ") + " && dropdb \(clone)"
            let run = try await audit(script)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("0 finding(s); 0 warning(s)"), "\(run.output)")
        }
    }

    /// Multi-statement strings are judged statement by statement: only the write is the finding;
    /// administration beside a read is none.
    @Test func multiStatementStringsAreJudgedStatementByStatement() async throws {
        guard try await embeddedOnly() else { return }
        let role = TestSupport.uniquePrefix("auditrole")
        let run = try await audit("""
            psql -q -c "SELECT 1; CREATE TABLE audit_multi (x int); SELECT 2" >/dev/null; psql -q -c 'DROP TABLE audit_multi'; \
            psql -q -c "CREATE ROLE \(role); SELECT 1; DROP ROLE \(role)" >/dev/null
            """)
        let report = Self.report(in: run.output).report   // not the echoed command
        #expect(run.status != 0)
        #expect(report.contains("write_to_maintenance_database in database postgres: CREATE TABLE audit_multi (x int) (session psql) —"), "\(run.output)")
        #expect(!report.contains("SELECT 1; CREATE TABLE"), "\(run.output)")
        #expect(!report.contains(role), "\(run.output)")
    }

    /// Toolkit databases are recognised by their owner marker, not by the shape of their name.
    @Test func toolkitDatabasesAreKnownByTheirMarkerNotTheirName() async throws {
        guard try await embeddedOnly() else { return }
        let server = try await server()
        let admin = try await AdminConnection.connect(to: server.connectionString, runID: RunID(), logger: TestSupport.logger)
        let marked = TestSupport.uniquePrefix("plainname")   // a toolkit database without the toolkit's name shape
        let unmarked = "pgtk_" + String(repeating: "0", count: 10) + "_" + TestSupport.uniquePrefix("x")   // the shape, no marker
        try await admin.createDatabase(marked, marker: OwnerMarker(kind: .clone, run: admin.runID, test: "marked"))
        let setup = try await Connection.connect(to: server.connectionString)
        try await setup.execute("CREATE DATABASE \(unmarked)")
        for name in [marked, unmarked] {
            let connection = try await Connection.connect(to: server.connectionString, database: name)
            try await connection.simpleQuery(Self.schema)
            await connection.close()
        }
        let run = try await audit("""
            psql -q -d \(marked) -c "INSERT INTO audit_notes (body) VALUES ('ours')"; \
            psql -q -d \(unmarked) -c "INSERT INTO audit_notes (body) VALUES ('not ours')"
            """)
        try await admin.dropDatabase(marked)
        try await setup.execute("DROP DATABASE \(unmarked) WITH (FORCE)")
        await setup.close()
        await admin.close()
        #expect(run.status != 0)
        #expect(run.output.contains("write_to_foreign_database in database \(unmarked): INSERT INTO audit_notes"), "\(run.output)")
        #expect(!run.output.contains("database \(marked)"), "\(run.output)")
    }

    // MARK: - Errors are evidence

    /// The article's "dev database absent" path: the hook's `SELECT … FOR UPDATE` runs on the
    /// connection to `postgres` and fails there. Its twin, the same query in a database that
    /// has the table, takes a row lock: no finding.
    @Test func aFailedQueryForTheAppsTablesInPostgresIsFlagged() async throws {
        guard try await embeddedOnly() else { return }
        let run = try await audit("psql -q -c 'SELECT * FROM notification_types WHERE name = 1 FOR UPDATE' 2>/dev/null; true")
        #expect(run.status != 0)
        #expect(run.output.contains("app_query_in_maintenance_database in database postgres: SELECT * FROM notification_types WHERE name = 1 FOR UPDATE [SQLSTATE 42P01]"), "\(run.output)")

        try await withDevDatabase { dev in
            let twin = try await audit("psql -q -d \(dev) -c 'SELECT * FROM audit_notes FOR UPDATE' >/dev/null", database: dev)
            #expect(twin.status == 0, "\(twin.output)")
            #expect(twin.output.contains("0 finding(s); 1 warning(s)"), "\(twin.output)")
        }
    }

    // MARK: - The WAL witness

    /// Each escape attempt, into the pre-existing dev database and into `postgres`: the log has
    /// no line for any of them; the WAL has the change. Its clean twin — the same statement in a
    /// database the command cloned from the dev database — is silent.
    @Test(arguments: 0..<unloggedWrites.count)
    func writesTheLogMissesAreFlaggedFromTheWAL(index: Int) async throws {
        guard try await embeddedOnly(), try await witnessAvailableOrSkip() else { return }
        let write = Self.unloggedWrites[index]
        try await withDevDatabase { dev in
            let run = try await audit("psql -q -c \"\(write.sql)\" >/dev/null", database: dev)
            #expect(run.status != 0, "\(write.name): \(run.output)")
            #expect(run.output.contains("✗ write_to_foreign_database in database \(dev): unknown (seen in the WAL: "), "\(write.name): \(run.output)")
            #expect(run.output.contains("(\(write.table))") || run.output.contains(" of \(write.table))"), "\(write.name): \(run.output)")

            let clone = TestSupport.uniquePrefix("auditclone")
            let twin = try await audit("createdb -T \(dev) \(clone) && psql -q -d \(clone) -c \"\(write.sql)\" >/dev/null && dropdb \(clone)")
            #expect(twin.status == 0, "\(write.name), twin: \(twin.output)")
            #expect(twin.output.contains("0 finding(s); 0 warning(s)"), "\(write.name), twin: \(twin.output)")
        }
        try await withSchemaInPostgres {
            let run = try await audit("psql -q -c \"\(write.sql)\" >/dev/null")
            #expect(run.status != 0, "\(write.name) in postgres: \(run.output)")
            #expect(run.output.contains("✗ write_to_maintenance_database in database postgres: unknown (seen in the WAL: "), "\(write.name) in postgres: \(run.output)")
        }
    }

    /// Reads only — the same forms, reading — are silent: in `postgres` not even a warning,
    /// in the dev database a warning that fails the run only under --strict.
    @Test func readsOnlyAreSilent() async throws {
        guard try await embeddedOnly() else { return }
        let reads = [
            "SELECT audit_peek()", "DO \\$\\$ BEGIN PERFORM count(*) FROM audit_notes; END \\$\\$", "CALL audit_peek_proc()",
            "WITH r AS (SELECT count(*) FROM audit_notes) SELECT * FROM r", "SELECT last_value FROM audit_counter",
            "SELECT * FROM audit_notes FOR UPDATE",
        ]
        let script = reads.map { "psql -q -c \"\($0)\" >/dev/null" }.joined(separator: " && ")
        try await withSchemaInPostgres {
            let run = try await audit(script)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("0 finding(s); 0 warning(s)"), "\(run.output)")
        }
        try await withDevDatabase { dev in
            let run = try await audit(script, database: dev)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("0 finding(s); 1 warning(s)"), "\(run.output)")
            let strict = try await audit(script, database: dev, options: ["--strict"])
            #expect(strict.status != 0, "\(strict.output)")
            #expect(strict.output.contains("1 finding(s); 0 warning(s)"), "\(strict.output)")
        }
    }

    /// Without pg_walinspect (the PostgreSQL 16 wheel `pgserver`), the audit says once that the
    /// WAL witness is unavailable and still audits from the log. It runs against the audit
    /// server when that one lacks the extension (PGTESTKIT_PG_BINDIR=$(scripts/pg-wheel 16)),
    /// else against a private server started from the wheel when scripts/pg-wheel has already
    /// installed it (it is not downloaded for this test).
    @Test func withoutPgWalinspectItSaysSoOnceAndAuditsFromTheLog() async throws {
        guard try await embeddedOnly() else { return }
        var environment = Self.environment
        if try await witnessAvailable() {
            let wheels = ProcessInfo.processInfo.environment["PGTESTKIT_WHEELS_DIR"] ?? "/var/tmp/pgtestkit-wheels-\(getuid())"
            guard FileManager.default.isExecutableFile(atPath: wheels + "/pg16/bin/python") else {
                print("skipped: the audit server has pg_walinspect and the PostgreSQL 16 wheel is not installed (scripts/pg-wheel 16)")
                return
            }
            let located = try await Subprocess.run(TestSupport.repositoryRoot.appendingPathComponent("scripts/pg-wheel").path, ["16"])
            let bindir = located.output.split(separator: "\n").last.map(String.init) ?? ""
            try #require(located.succeeded && FileManager.default.isExecutableFile(atPath: bindir + "/initdb"), "\(located.output)")
            environment["PGTESTKIT_PG_BINDIR"] = bindir
            environment["PGTESTKIT_DATA_DIR"] = "/dev/shm/pgtestkit-audit-tests-pg16-\(getuid())"
        }
        let run = try await audit(
            "psql -q -c 'CREATE TABLE audit_nowal (x int)' && psql -q -c \"SELECT 1\" && psql -q -c 'DROP TABLE audit_nowal'",
            environment: environment)
        #expect(run.status != 0)
        #expect(run.output.components(separatedBy: "the WAL witness is unavailable").count == 2, "\(run.output)")   // once
        #expect(run.output.contains("pg_walinspect"), "\(run.output)")
        #expect(run.output.contains("WAL witness: off"), "\(run.output)")
        #expect(run.output.contains("write_to_maintenance_database in database postgres: CREATE TABLE audit_nowal"), "\(run.output)")
        if let directory = environment["PGTESTKIT_DATA_DIR"], directory != Self.dataDirectory {   // the private PG 16 server
            let server = try await EmbeddedServer.locate(environment: environment)
            try? await server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    // MARK: - The audit's rules, on log entries

    static func entry(_ db: String, _ message: String, pid: Int32 = 1, severity: String = "LOG", state: String? = nil, statement: String? = nil) -> ServerLogEntry {
        var object: [String: Any] = ["timestamp": "2026-11-24 15:34:09.461 UTC", "dbname": db, "pid": pid, "error_severity": severity, "message": message]
        if let state { object["state_code"] = state }
        if let statement { object["statement"] = statement }
        let data = try! JSONSerialization.data(withJSONObject: object)
        return try! JSONDecoder().decode(ServerLogEntry.self, from: data)
    }

    @Test func theAuditsRulesOnLogEntries() {
        let before = [
            CommandAudit.Database(oid: 5, name: "postgres", isToolkit: false),
            CommandAudit.Database(oid: 16384, name: "app_dev", isToolkit: false),
            CommandAudit.Database(oid: 16390, name: "pgtk_tpl_0123456789abcdef", isToolkit: true),
        ]
        let audit = CommandAudit(before: before)
        let outcome = audit.audit([
            Self.entry("postgres", "statement: CREATE DATABASE \"Test_Clone\" WITH TEMPLATE = pgtk_tpl_0123456789abcdef"),
            Self.entry("Test_Clone", "statement: INSERT INTO t VALUES (1)"),          // born migrated
            Self.entry("postgres", "statement: CREATE DATABASE test_app"),
            Self.entry("test_app", "statement: SET x = 1; INSERT INTO t VALUES (1)"),  // before its schema
            Self.entry("pgtk_tpl_0123456789abcdef", "statement: UPDATE t SET x = 2"),   // the toolkit's
            Self.entry("app_dev", "statement: SELECT 1; UPDATE t SET x = 3"),
            Self.entry("postgres", "relation \"t\" does not exist", pid: 7, severity: "ERROR", state: "42P01", statement: "SELECT * FROM t FOR UPDATE"),
            Self.entry("postgres", "statement: INSERT INTO missing VALUES (1)", pid: 8),
            Self.entry("postgres", "relation \"missing\" does not exist", pid: 8, severity: "ERROR", state: "42P01", statement: "INSERT INTO missing VALUES (1)"),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeBeforeMigrations, .writeToForeignDatabase, .appQueryInMaintenanceDatabase, .writeToMaintenanceDatabase])
        #expect(outcome.findings[0].statement == "INSERT INTO t VALUES (1)")
        #expect(outcome.findings[1].statement == "UPDATE t SET x = 3")
        #expect(outcome.findings[3].sqlState == "42P01")   // the logged write that failed: one finding
        #expect(StatementClassifier.createdDatabase("CREATE DATABASE \"Test_Clone\" WITH TEMPLATE = pgtk_tpl_x")! == ("Test_Clone", "pgtk_tpl_x"))
        #expect(StatementClassifier.createdDatabase("create database foo owner bar template template0")! == ("foo", "template0"))
        #expect(StatementClassifier.createdDatabase("CREATE DATABASE foo")! == ("foo", nil))

        // The WAL: a change on a table no logged write names is a finding of its own; the
        // toolkit's database and catalog-only changes are none.
        var notes = WalChange(database: 16384, tablespace: 1663, relfilenode: 16400, effect: .rows, records: ["Heap/INSERT": 1])
        notes.relation = "public.notes"
        notes.table = "public.notes"
        var t = WalChange(database: 16384, tablespace: 1663, relfilenode: 16401, effect: .rows, records: ["Heap/HOT_UPDATE": 1])
        t.relation = "public.t"
        t.table = "public.t"
        let statistic = WalChange(database: 5, tablespace: 1663, relfilenode: 2619, effect: .rows, records: ["Heap/INSERT": 1])
        let toolkit = WalChange(database: 16390, tablespace: 1663, relfilenode: 16500, effect: .rows, records: ["Heap/INSERT": 1])
        let withWAL = audit.audit([Self.entry("app_dev", "statement: UPDATE t SET x = 3")],
                                  wal: [16384: [notes, t], 5: [statistic], 16390: [toolkit]])
        #expect(withWAL.findings.count == 2)
        #expect(withWAL.findings[0].note?.contains("the WAL confirms: Heap/HOT_UPDATE on relation 16401 (public.t)") == true)
        #expect(withWAL.findings[1].statement == "unknown (seen in the WAL: Heap/INSERT on relation 16400 (public.notes))")
    }
}

/// Every subcommand's `--help` prints its help and exits 0 (a smoke check of the CLI's
/// surface); `audit --help` is help, not a command to audit.
@Suite("pgtestkit --help")
struct CommandHelpTests {
    @Test(arguments: [
        ["--help"], ["server", "--help"], ["server", "start", "--help"], ["server", "stop", "--help"],
        ["server", "status", "--help"], ["server", "env", "--help"], ["demo", "--help"], ["list", "--help"],
        ["reap", "--help"], ["prepare", "--help"], ["bench", "--help"], ["audit", "--help"], ["audit", "-h"],
    ])
    func everySubcommandPrintsItsHelp(arguments: [String]) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: AuditCommandTests.executable), "build the pgtestkit product first")
        let output = try await Subprocess.run(AuditCommandTests.executable, arguments)
        #expect(output.status == 0, "\(arguments): \(output.output)")
        #expect(output.output.contains("USAGE:"), "\(arguments): \(output.output)")
    }

    @Test func auditRunsWhatComesAfterTheDoubleDashEvenIfItIsCalledHelp() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: AuditCommandTests.executable), "build the pgtestkit product first")
        // After `--`, `--help` is the command to run (here, a missing one): not the help.
        let output = try await Subprocess.run(AuditCommandTests.executable, ["audit", "--", "--help"])
        #expect(!output.output.contains("USAGE: pgtestkit audit"), "\(output.output)")
    }
}
