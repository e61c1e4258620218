import Foundation
import NotificationsFixture
import Synchronization
import Testing
@testable import PostgresTestKit

@Suite("Flagging premature writes")
struct AuditTests {
    /// A schema with a table, a sequence and a function that writes, for hooks to misuse.
    static let schema = SchemaMigrations.closure(fingerprint: "audit-schema-1") { context in
        try await context.connection.simpleQuery("""
            CREATE TABLE notes (id serial PRIMARY KEY, body text);
            INSERT INTO notes (body) VALUES ('seeded');
            CREATE SEQUENCE counter;
            CREATE FUNCTION remember(t text) RETURNS void LANGUAGE sql AS $$ INSERT INTO notes (body) VALUES (t) $$;
            """)
    }

    /// A hook that writes only once the schema exists, i.e. on clone connections.
    static func cloneHook(_ sql: String, line: Int = #line) -> ConnectHook {
        .closure("hook: \(sql)", fileID: #fileID, line: line) { connection in
            guard try await connection.scalar("SELECT to_regclass('notes') IS NOT NULL", as: Bool.self) else { return }
            try await connection.simpleQuery(sql)
        }
    }

    @Test(arguments: [
        "INSERT INTO notes (body) VALUES ('from hook')",
        "UPDATE notes SET body = 'changed'",
        "DELETE FROM notes",
        "CREATE TABLE hook_table (x int)",
        "SELECT nextval('counter')",
        "SELECT remember('via function')",
    ])
    func aWritingHookOnACloneConnectionIsFlaggedWithItsLine(sql: String) async throws {
        let line = #line + 1
        let hook = Self.cloneHook(sql, line: line)
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: Self.schema, connectHooks: [hook],
                                          audit: .fail, poolSize: 0, logger: TestSupport.logger)
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "hookWrites") }
        #expect(error?.code == .lifecycleViolation)
        let violation = try #require(manager.violations.first)
        #expect(violation.kind == .writeInConnectHook)
        #expect(violation.phase == .connecting)
        #expect(violation.sqlState == "25006")
        #expect(violation.database.hasSuffix("_hookwrites"))
        // A clone is born migrated: the note does not say "before migrations".
        #expect(violation.note?.contains("born migrated") == true, "\(violation.note ?? "")")
        #expect(violation.source == RegistrationSite(fileID: "PostgresTestKitTests/AuditTests.swift", line: line))
        #expect(error?.message.contains("AuditTests.swift:\(line)") == true)
        await manager.shutdown()
    }

    /// On the template build connection the schema does not exist yet: DDL is refused as a
    /// write (25006); writes to application tables fail because the tables are missing, which
    /// is flagged as a hook touching them before migrations.
    @Test(arguments: [
        ("CREATE TABLE written_while_connecting (x int)", LifecycleViolation.Kind.writeInConnectHook),
        ("CREATE SEQUENCE hook_counter", .writeInConnectHook),
        ("INSERT INTO notes (body) VALUES ('too early')", .hookQueriedBeforeMigrations),
        ("UPDATE notes SET body = 'too early'", .hookQueriedBeforeMigrations),
        ("DELETE FROM notes", .hookQueriedBeforeMigrations),
        ("SELECT nextval('counter')", .hookQueriedBeforeMigrations),
        ("SELECT remember('too early')", .hookQueriedBeforeMigrations),
    ])
    func aWritingHookOnTheTemplateBuildConnectionIsFlagged(sql: String, kind: LifecycleViolation.Kind) async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: Self.schema,
            connectHooks: [.sql(sql)], audit: .fail, poolSize: 0, logger: TestSupport.logger)
        await #expect(throws: TestKitError.self) { try await manager.acquire() }
        let violation = try #require(manager.violations.first)
        #expect(violation.kind == kind)
        #expect(violation.phase == .connecting)
        #expect(violation.database.contains("_tplb_"))
        #expect(violation.statement == sql)
        #expect(violation.source?.fileID == "PostgresTestKitTests/AuditTests.swift")
        let admin = try await TestSupport.admin()
        #expect(try await admin.ownedDatabases(prefix: manager.prefix).isEmpty)   // nothing published
        await admin.close()
    }

    @Test func theArticlesHookIsFlaggedAndThePostMigrateSeederIsClean() async throws {
        // "Sync notification types on connect": the connection_created receiver, ported.
        let syncOnConnect = ConnectHook.closure("sync notification types on connect") { connection in
            try await NotificationTypeSync.sync(.standard, on: connection)
        }
        let buggy = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            connectHooks: [syncOnConnect], audit: .fail, poolSize: 0, logger: TestSupport.logger)
        await #expect(throws: TestKitError.self) { try await buggy.acquire(testName: "article") }
        let violation = try #require(buggy.violations.first)
        #expect(violation.kind == .hookQueriedBeforeMigrations)   // the template's tables do not exist yet
        #expect(violation.source?.fileID == "PostgresTestKitTests/AuditTests.swift")
        #expect(violation.statement?.contains("INSERT INTO notification_types") == true)

        // The fix: the same sync as a seeder, run after migrations.
        let clean = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            seeders: [NotificationTypeSync()], connectHooks: [.sql("SET TIME ZONE 'UTC'")], audit: .fail, poolSize: 0, logger: TestSupport.logger)
        let db = try await clean.acquire(testName: "articleFixed")
        #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == 4)
        #expect(clean.violations.isEmpty)
        try await db.release()
        await clean.shutdown()
    }

    @Test func warnModeDetectsWithoutBlocking() async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: Self.schema,
            connectHooks: [Self.cloneHook("INSERT INTO notes (body) VALUES ('kept in warn mode')")],
            audit: .warn, poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "warn")
        #expect(try await db.scalar("SELECT count(*) FROM notes", as: Int.self) == 2)   // the write went through
        #expect(manager.violations.map(\.kind) == [.writeInConnectHook])
        try await db.release()
        await manager.shutdown()
    }

    @Test func aHookRegisteredOnEveryConnectionCannotWriteThroughTheAdminConnection() async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            connectHooks: [.sql("CREATE TABLE admin_hook_wrote_here (x int)", scope: .everyConnection)],
            audit: .fail, logger: TestSupport.logger)
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire() }
        #expect(error?.code == .lifecycleViolation)
        let violation = try #require(manager.violations.first)
        #expect(violation.kind == .writeThroughAdminConnection)
        #expect(violation.database == "postgres")
        let postgres = try await TestSupport.connect()
        #expect(try await postgres.scalar("SELECT to_regclass('admin_hook_wrote_here') IS NULL", as: Bool.self))
    }

    @Test(arguments: [AuditPolicy.warn, .off])
    func evenOutsideFailModeAnAdminHookCannotWriteOrLeaveSettings(policy: AuditPolicy) async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            connectHooks: [.sql("SET application_name = 'hooked'; CREATE TABLE IF NOT EXISTS public.admin_hook_\(policy.rawValue) (x int)", scope: .everyConnection)],
            audit: policy, poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire()
        let postgres = try await TestSupport.connect()
        #expect(try await postgres.scalar("SELECT to_regclass('public.admin_hook_\(policy.rawValue)') IS NULL", as: Bool.self))
        let adminName = try await postgres.scalar(
            "SELECT application_name FROM pg_stat_activity WHERE application_name = $1", manager.runID.adminApplicationName, as: String?.self)
        #expect(adminName == manager.runID.adminApplicationName)   // RESET ALL undid the hook's SET
        try await db.release()
        await manager.shutdown()
    }

    @Test(.enabled(if: PostgresServerConfiguration.fromEnvironment().isEmbedded, "the refused write is read from the embedded server's log"))
    func anotherClientCannotWriteBeforeMigrationsStart() async throws {
        // A hook that starts "the app's pool" too early: a second, independent libpq connection.
        let attempts = Mutex(0)
        let early = ConnectHook.closure("start app pool on connect") { connection in
            // Only while the template is being built: its migrations have not started yet.
            guard try await connection.scalar("SELECT to_regclass('notes') IS NULL", as: Bool.self) else { return }
            attempts.withLock { $0 += 1 }
            let parameters = await connection.effectiveParameters()
            let app = try await Connection.connect(to: .keywordForm(parameters), applicationName: "app-pool")
            do {
                try await app.execute("CREATE TABLE app_wrote_early (x int)")
                Issue.record("the database guard let an early write through")
            } catch let error as PGError {
                #expect(error.sqlState == "25006")
            }
            await app.close()
        }
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: Self.schema, connectHooks: [early],
            audit: .fail, poolSize: 0, logger: TestSupport.logger)
        // The refused write is reported from the server log (embedded server), not only as an
        // error somewhere in the app's own log.
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "guard") }
        #expect(attempts.withLock { $0 } == 1)
        #expect(error?.code == .lifecycleViolation)
        let violation = try #require(manager.violations.first)
        #expect(violation.kind == .writeBeforeMigrations)
        #expect(violation.applicationName == "app-pool")
        #expect(violation.statement == "CREATE TABLE app_wrote_early (x int)")
        #expect(violation.database.contains("_tplb_"))
        await manager.shutdown()
    }

    /// The escape twin: "the app's pool" lifts the database guard for its own session and
    /// writes inside a `DO` block, which the statement log never shows. The WAL does.
    @Test func aClientThatLiftsTheDatabaseGuardIsSeenInTheWAL() async throws {
        guard try await CloneRecyclingTests.serverHasWalinspect() else { return }   // PostgreSQL 16 wheel: no witness
        let attempts = Mutex(0)
        let early = ConnectHook.closure("start app pool on connect, past the guard") { connection in
            guard try await connection.scalar("SELECT to_regclass('notes') IS NULL", as: Bool.self) else { return }
            attempts.withLock { $0 += 1 }
            let parameters = await connection.effectiveParameters()
            let app = try await Connection.connect(to: .keywordForm(parameters), applicationName: "app-pool")
            try await app.simpleQuery("SET default_transaction_read_only = off")
            try await app.simpleQuery("DO $$ BEGIN CREATE TABLE app_escaped (x int); INSERT INTO app_escaped VALUES (1); END $$")
            await app.close()
        }
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: Self.schema, connectHooks: [early],
            audit: .fail, poolSize: 0, logger: TestSupport.logger)
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "escape") }
        #expect(attempts.withLock { $0 } == 1)
        #expect(error?.code == .lifecycleViolation)
        let violation = try #require(manager.violations.first { violation in violation.kind == .writeBeforeMigrations })
        #expect(violation.statement?.hasPrefix("unknown (seen in the WAL:") == true, "\(violation)")
        #expect(violation.statement?.contains("public.app_escaped") == true, "\(violation)")
        #expect(violation.database.contains("_tplb_"))
        await manager.shutdown()
    }

    @Test func aCleanHookProducesNoViolation() async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: Self.schema,
            connectHooks: [.sql("SET TIME ZONE 'UTC'; SET search_path TO public"), Self.cloneHook("SELECT count(*) FROM notes")],
            audit: .fail, poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "clean")
        try await db.release()
        #expect(manager.violations.isEmpty)
        await manager.shutdown()
    }

    @Test func reportsGiveAnnotationsWithFileAndLine() {
        let report = RunReport()
        report.add(LifecycleViolation(kind: .writeInConnectHook, phase: .connecting, database: "pgtk_x_1",
                                      statement: "INSERT INTO t VALUES (1)", sqlState: "25006",
                                      source: RegistrationSite(fileID: "AppTests/Database.swift", line: 12)))
        #expect(report.githubAnnotations.first?.hasPrefix("::error file=Database.swift,line=12,title=PostgresTestKit write_in_connect_hook::") == true)
        #expect(report.summary.contains("violations: 1"))
    }
}

/// The statement-log watch while tests run (embedded server only).
@Suite("Run log audit: writes the guards cannot see", .enabled(if: PostgresServerConfiguration.fromEnvironment().isEmbedded))
struct RunLogAuditTests {
    /// On a private embedded server (its own log), so that nothing else is in it.
    @Test func theAppWritingToTheDevDatabaseInsteadOfTheTestDatabaseFailsTheRun() async throws {
        let directory = "/dev/shm/pgtestkit-devdb-test-\(getuid())"
        let configuration = PostgresServerConfiguration.embedded(dataDirectory: directory)
        let server = try #require(try await configuration.embeddedServer())
        try await server.start(logger: TestSupport.logger)
        let setup = try await Connection.connect(to: server.connectionString)
        let dev = TestSupport.uniquePrefix("devdb")
        try await setup.execute("CREATE DATABASE \(dev)")
        let manager = TestDatabaseManager(server: configuration, prefix: TestSupport.uniquePrefix(), audit: .fail,
                                          poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "misconfiguredApp")
        // "The app" ignores db.url and uses its DATABASE_URL: the dev database.
        let app = try await Connection.connect(to: server.connectionString, database: dev, applicationName: "the-app")
        try await app.execute("CREATE TABLE IF NOT EXISTS notification_types (name text)")
        try await app.execute("INSERT INTO notification_types VALUES ('sync_on_connect')")
        await app.close()
        try await Task.sleep(for: .milliseconds(200))   // the logging collector writes asynchronously
        try await db.release()                          // no test is blamed: the log names no client process
        await manager.shutdown()
        let flagged = manager.violations.filter { $0.kind == .writeToForeignDatabase && $0.database == dev }
        #expect(flagged.contains { $0.statement == "INSERT INTO notification_types VALUES ('sync_on_connect')" })
        #expect(flagged.allSatisfy { $0.applicationName == "the-app" && $0.note?.contains("_misconfiguredapp") == true }, "\(flagged)")
        #expect(RunReport.shared.snapshot.failsRun)      // under .fail the process would exit 1 after the tests
        RunReport.shared.update { $0.failsRun = false }  // …but this one was on purpose
        await setup.close()
        try? await server.stop(mode: .immediate)
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: directory + ".lock")
    }

    @Test func theToolkitsOwnWorkAndAdministrationAreNotFindings() throws {
        func entry(_ db: String, _ statement: String, app: String = "psql") -> ServerLogEntry {
            let json = #"{"timestamp":"2026-11-24 15:34:09.461 UTC","dbname":"\#(db)","pid":1,"application_name":"\#(app)","error_severity":"LOG","message":"statement: \#(statement)"}"#
            return try! JSONDecoder().decode(ServerLogEntry.self, from: Data(json.utf8))
        }
        #expect(RunLogAudit.finding(in: entry("postgres", "CREATE DATABASE x")) == nil)
        #expect(RunLogAudit.finding(in: entry("postgres", "CREATE ROLE app LOGIN")) == nil)
        #expect(RunLogAudit.finding(in: entry("postgres", "CREATE TEMP TABLE t (x int)")) == nil)
        #expect(RunLogAudit.finding(in: entry("postgres", "CREATE TABLE t (x int)", app: "pgtestkit-admin:0a1b2c3d4e")) == nil)
        // Toolkit databases whose creation the log did not show: the marker decides, and for
        // one gone by then (not looked up here) the shape of the toolkit's names.
        for database in ["pgtk_0a1b2c3d4e_3_test", "pgtk_tpl_0123456789abcdef"] {
            let candidate = try #require(RunLogAudit.finding(in: entry(database, "INSERT INTO t VALUES (1)")))
            #expect(RunLogAudit.confirmed([candidate], existing: nil).isEmpty)
        }
        #expect(RunLogAudit.finding(in: entry("postgres", "INSERT INTO t VALUES (1)"))?.kind == .writeToMaintenanceDatabase)
        #expect(RunLogAudit.finding(in: entry("myapp_dev", "UPDATE t SET x = 1"))?.kind == .writeToForeignDatabase)
    }
}
