import Foundation
import NotificationsFixture
import Synchronization
import Testing
@testable import PostgresTestKit

/// Counts how often the wrapped migrator really ran.
final class CountingMigrator: SchemaMigrator {
    let inner: SQLDirectoryMigrator
    let runs = Mutex(0)
    init(_ directory: URL) { inner = SQLDirectoryMigrator(directory: directory) }
    var fingerprint: String { get throws { try inner.fingerprint } }
    func migrate(_ context: PreparationContext) async throws {
        runs.withLock { $0 += 1 }
        try await inner.migrate(context)
    }
}

@Suite("Lifecycle: template, migrations, seeders, phases, hooks")
struct LifecycleTests {
    func notificationsManager(prefix: String, catalog: NotificationCatalog = .standard) -> TestDatabaseManager {
        TestDatabaseManager(
            prefix: prefix, migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            seeders: [NotificationTypeSync(catalog: catalog)], logger: TestSupport.logger)
    }

    @Test func aCloneHoldsTheMigratedSchemaAndTheSeededRows() async throws {
        let manager = notificationsManager(prefix: TestSupport.uniquePrefix())
        let db = try await manager.acquire(testName: "schemaAndSeeds")
        #expect(try await db.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self) == NotificationCatalog.standard.kinds.count)
        #expect(try await db.scalar("SELECT count(*) FROM pgtestkit.schema_migrations", as: Int.self) == 3)
        let order = try await db.execute("SELECT version FROM pgtestkit.schema_migrations ORDER BY applied_at, version").rows.map { $0[0] ?? "" }
        #expect(order.last == "0010_customer_notification_types.sql")
        try await db.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "a@example.com", "A")
        try await db.execute("INSERT INTO customer_notification_types SELECT c.id, t.id FROM customers c, notification_types t")
        #expect(try await db.scalar("SELECT count(*) FROM customer_notification_types", as: Int.self) == 4)
        let events = db.phases.events.map(\.phase)
        #expect(events == [.connecting, .ready])
        try await db.release()
        await manager.shutdown()
    }

    @Test func removingAKindAndResyncingDeactivatesIt() async throws {
        let manager = notificationsManager(prefix: TestSupport.uniquePrefix())
        let db = try await manager.acquire(testName: "deactivates")
        try await NotificationTypeSync.sync(NotificationCatalog.standard.removing("weekly_digest"), on: db.connection)
        #expect(try await db.scalar("SELECT is_active FROM notification_types WHERE name = 'weekly_digest'", as: Bool.self) == false)
        #expect(try await db.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self) == 3)
        // Idempotent: a second sync changes nothing, and bringing the kind back re-activates it.
        try await NotificationTypeSync.sync(.standard, on: db.connection)
        try await NotificationTypeSync.sync(.standard, on: db.connection)
        #expect(try await db.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self) == 4)
        #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == 4)
        try await db.release()
        await manager.shutdown()
    }

    @Test func migrationsRunOncePerFingerprintAndAnEditRebuilds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgtk-migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: NotificationsFixture.migrationsDirectory, to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = TestSupport.uniquePrefix()
        let counter = CountingMigrator(directory)

        let first = TestDatabaseManager(prefix: prefix, migrations: .custom(counter), poolSize: 0, logger: TestSupport.logger)
        try await first.prepare()
        #expect(try await first.builtTemplate)
        let firstTemplate = try await first.templateName
        let second = TestDatabaseManager(prefix: prefix, migrations: .custom(counter), poolSize: 0, logger: TestSupport.logger)
        try await second.prepare()
        #expect(try await second.builtTemplate == false)
        #expect(try await second.templateName == firstTemplate)
        #expect(counter.runs.withLock { $0 } == 1)   // the second manager did no migration work

        // While a live run uses the old template, a newer one never drops it; once that run is
        // done, the next manager to prepare garbage-collects it.
        await second.shutdown()
        try "-- edited\nALTER TABLE customers ADD COLUMN phone text;\n"
            .write(to: directory.appendingPathComponent("0011_phone.sql"), atomically: true, encoding: .utf8)
        let third = TestDatabaseManager(prefix: prefix, migrations: .custom(counter), poolSize: 0, logger: TestSupport.logger)
        try await third.prepare()
        #expect(try await third.builtTemplate)
        #expect(try await third.templateName != firstTemplate)
        #expect(counter.runs.withLock { $0 } == 2)
        let admin = try await TestSupport.admin()
        #expect(try await admin.exists(try #require(firstTemplate)))   // still used by `first`
        let old = try await first.acquire(testName: "stillOnTheOldSchema")
        #expect(try await old.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'phone'", as: Int.self) == 0)
        try await old.release()
        await first.shutdown()
        let fourth = TestDatabaseManager(prefix: prefix, migrations: .custom(counter), poolSize: 0, logger: TestSupport.logger)
        try await fourth.prepare()
        #expect(try await fourth.builtTemplate == false)
        await fourth.shutdown()
        let db = try await third.acquire(testName: "edited")
        #expect(try await db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'phone'", as: Int.self) == 1)
        try await db.release()
        await third.shutdown()
        // The superseded template was dropped; only the new one remains.
        let templates = try await admin.ownedDatabases(prefix: prefix).filter { $0.marker.kind == .template }
        #expect(templates.map(\.name) == [try await third.templateName])
        for template in templates { try await admin.dropDatabase(template.name) }
        await admin.close()
    }

    /// `.closure` migrations in the shape of a Fluent/PostgresNIO app: its own client, pointed at
    /// `context.url`, runs the DDL. The database guard is lifted when migrations start, so that
    /// client may write; the result is in every clone.
    @Test func closureMigrationsCanUseTheAppsOwnClientThroughTheURL() async throws {
        let migrations = SchemaMigrations.closure(fingerprint: "app-client-v1") { context in
            #expect(!"\(context)".contains("password="))
            let appClient = try await Connection.connect(to: ConnectionString(context.url), applicationName: "my-app-migrator")
            try await appClient.simpleQuery("CREATE TABLE app_orders (id bigserial PRIMARY KEY, total numeric NOT NULL)")
            await appClient.close()
        }
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: migrations, audit: .fail,
                                          poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "appClient")
        try await db.execute("INSERT INTO app_orders (total) VALUES ($1)", 9.5)
        #expect(try await db.scalar("SELECT count(*) FROM app_orders", as: Int.self) == 1)
        #expect(manager.violations.isEmpty)
        try await db.release()
        await manager.shutdown()
    }

    @Test func aFailingMigrationNamesFileLineAndSQLStateAndPublishesNothing() async throws {
        let prefix = TestSupport.uniquePrefix()
        let manager = TestDatabaseManager(
            prefix: prefix, migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("broken/Migrations")),
            poolSize: 0, logger: TestSupport.logger)
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "broken") }
        #expect(error?.code == .migrationFailed)
        #expect(error?.message.contains("0002_broken.sql:7:8") == true)
        #expect(error?.message.contains("SQLSTATE 42703") == true)
        #expect((error?.underlying as? PGError)?.sqlState == "42703")
        let admin = try await TestSupport.admin()
        #expect(try await admin.ownedDatabases(prefix: prefix).isEmpty)   // no template, no scratch left
        await admin.close()
        // The next attempt tries again (and fails the same way) instead of using a half-built template.
        await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "broken") }
    }

    @Test func aSeederCannotRunBeforeTheMigratorFinished() throws {
        let log = PhaseLog(database: "example")
        try log.enter(.migrating)
        let error = #expect(throws: TestKitError.self) { try log.require(.seeding, for: "seeder notifications.NotificationTypeSync") }
        #expect(error?.code == .illegalPhaseTransition)
        #expect(error?.message.contains("'seeding'") == true)
        #expect(error?.message.contains("'migrating'") == true)
        let skip = #expect(throws: TestKitError.self) { try log.enter(.ready) }
        #expect(skip?.message.contains("cannot enter phase 'ready' while in phase 'migrating'") == true)
        try log.enter(.seeding)
        try log.enter(.ready)
        #expect(log.events.map(\.phase) == [.connecting, .migrating, .seeding, .ready])
    }

    @Test func connectHooksRunOnTemplateAndTestConnectionsButNeverOnTheAdminConnection() async throws {
        let seen = Mutex<[String]>([])
        let hook = ConnectHook.closure("record database") { connection in
            let database = await connection.database
            seen.withLock { $0.append(database) }
            try await connection.execute("SET TIME ZONE 'UTC'")
        }
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            connectHooks: [hook], audit: .fail, poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "hooks")
        #expect(try await db.scalar("SELECT current_setting('TimeZone')", as: String.self) == "UTC")
        let databases = seen.withLock { $0 }
        #expect(databases.contains(db.name))
        #expect(databases.contains { $0.contains("_tplb_") })   // the template build connection
        #expect(!databases.contains("postgres") && !databases.contains("template1"))
        #expect(manager.violations.isEmpty)
        try await db.release()
        await manager.shutdown()
    }

    @Test func perTestSeedersRunOnEveryCloneAfterTheTemplateSeeders() async throws {
        let order = Mutex<[String]>([])
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            seeders: [
                NotificationTypeSync(),
                Seeders.closure(identity: "per-test customer", version: "1", scope: .perTest) { context in
                    order.withLock { $0.append("\(context.phase)") }
                    try await context.connection.execute("INSERT INTO customers (email, name) VALUES ('seed@example.com', 'Seed')")
                },
            ], poolSize: 0, logger: TestSupport.logger)
        let a = try await manager.acquire(testName: "a")
        let b = try await manager.acquire(testName: "b")
        for db in [a, b] {
            #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 1)
            #expect(db.phases.events.map(\.phase) == [.connecting, .seeding, .ready])
            try await db.release()
        }
        #expect(order.withLock { $0 } == ["seeding", "seeding"])
        await manager.shutdown()
    }

    @Test func concurrentProcessesBuildOneTemplate() async throws {
        let executable = TestSupport.repositoryRoot.appendingPathComponent(".build/debug/pgtestkit").path
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build the pgtestkit product first (scripts/test does)")
        let prefix = TestSupport.uniquePrefix()
        let bench = TestSupport.fixtures.appendingPathComponent("bench40")
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await Subprocess.run(executable, [
                        "prepare", "--prefix", prefix, "--migrations", bench.appendingPathComponent("Migrations").path,
                        "--seed", bench.appendingPathComponent("Seeds/0001_seed.sql").path,
                    ]).output
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let built = outputs.filter { $0.contains("built ") }.count
        let reused = outputs.filter { $0.contains("reused ") }.count
        #expect(built == 1, "outputs: \(outputs)")
        #expect(reused == 7, "outputs: \(outputs)")
        let admin = try await TestSupport.admin()
        let owned = try await admin.ownedDatabases(prefix: prefix)
        #expect(owned.count == 1 && owned.first?.marker.kind == .template)
        for database in owned { try await admin.dropDatabase(database.name) }
        await admin.close()
    }
}

/// Swift-code migrations carry no fingerprint by default: a rebuilt test executable must get a
/// fresh template, an unchanged one must reuse it.
@Suite("Swift-code migrations")
struct SwiftMigrationFingerprintTests {
    @Test func aRebuiltExecutableGetsAFreshTemplateAndAnUnchangedOneReusesIt() async throws {
        let directory = "/tmp/pgtk-exe-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = directory + "/pgtestkit"
        try FileManager.default.copyItem(atPath: TestSupport.cli, toPath: copy)
        let prefix = TestSupport.uniquePrefix()
        func prepare() async throws -> String {
            let output = try await Subprocess.run(copy, ["prepare", "--swift-migrations", "--prefix", prefix])
            #expect(output.succeeded, "\(output.output)")
            return output.output.split(separator: "\n").first { $0.hasPrefix("built") || $0.hasPrefix("reused") }.map(String.init) ?? output.output
        }
        let first = try await prepare()
        let second = try await prepare()
        // A "rebuild": the executable changes (size and modification time), as any edit to a
        // Swift migration would change it.
        let handle = try #require(FileHandle(forWritingAtPath: copy))
        handle.seekToEndOfFile()
        handle.write(Data([0]))
        try handle.close()
        let third = try await prepare()
        let admin = try await TestSupport.admin()
        let templates = try await admin.ownedDatabases(prefix: prefix).filter { $0.marker.kind == .template }
        for template in templates { _ = try? await admin.dropDatabase(template.name) }
        await admin.close()
        try? FileManager.default.removeItem(atPath: directory)
        #expect(first.hasPrefix("built"))
        #expect(second.hasPrefix("reused") && second.dropFirst(7) == first.dropFirst(6))
        #expect(third.hasPrefix("built") && third.dropFirst(6) != first.dropFirst(6))
        #expect(templates.count == 1, "the superseded template was collected: \(templates.map(\.name))")
    }
}
