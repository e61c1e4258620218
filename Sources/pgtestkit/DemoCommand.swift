import ArgumentParser
import Foundation
import NotificationsFixture
import PostgresTestKit

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the lifecycle on the notifications fixture: template build or reuse, clones, phases, timings, and a flagged premature write.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "How many test databases to acquire and release.")
    var count = 5
    @Option(help: ArgumentHelp("Where to write the demo's timeline (self-contained HTML: a row per database, a bar per phase, a marker per finding).", valueName: "file"))
    var timeline = FileManager.default.temporaryDirectory.appendingPathComponent("pgtestkit-demo-timeline.html").path

    func run() async throws {
        let logger = options.logger()
        let clock = ContinuousClock()
        print("== PostgresTestKit demo (server: \(PostgresServerConfiguration.fromEnvironment()))")

        print("\n-- 1. Empty per-test databases (no migrations): create, connect, drop")
        let empty = TestDatabaseManager(prefix: "pgtkdemo", audit: .warn, poolSize: 0, logger: logger)
        for i in 1...3 {
            var db: PostgresTestDatabase?
            let acquire = try await clock.measure { db = try await empty.acquire(testName: "empty\(i)", suite: "1. empty databases") }
            let release = try await clock.measure { try await db!.release() }
            print("   \(db!.name): acquire \(ms(acquire)), release \(ms(release)) (drop runs in the background)")
        }
        let drain = await clock.measure { await empty.waitForDrops() }
        print("   background drops finished \(ms(drain)) later")
        await empty.shutdown()

        print("\n-- 2. Notifications fixture: template = migrations + NotificationTypeSync seeder")
        let manager = TestDatabaseManager(
            prefix: "pgtkdemo", migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            seeders: [NotificationTypeSync()],
            connectHooks: [.sql("SET TIME ZONE 'UTC'")],
            audit: .warn, logger: logger)
        let prepare = try await clock.measure { try await manager.prepare() }
        let built = try await manager.builtTemplate
        print("   template \(try await manager.templateName ?? "-"): \(built ? "BUILT (migrations + seeders ran)" : "REUSED (fingerprint unchanged: no migration work)") in \(ms(prepare))")
        print("   (run the demo again: the template is reused; edit a migration: it is rebuilt)")

        print("\n-- 3. \(count) tests, each with its own clone (connect → ready → releasing → dropped)")
        var acquires: [Duration] = []
        var released: [(PostgresTestDatabase, Duration, Int, Int)] = []
        for i in 1...count {
            var db: PostgresTestDatabase?
            let acquire = try await clock.measure { db = try await manager.acquire(testName: "demoTest\(i)", suite: "3. notifications fixture") }
            acquires.append(acquire)
            try await db!.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "user\(i)@example.com", "User \(i)")
            let types = try await db!.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self)
            let customers = try await db!.scalar("SELECT count(*) FROM customers", as: Int.self)
            try await db!.release()
            released.append((db!, acquire, types, customers))
        }
        await manager.waitForDrops()
        for (db, acquire, types, customers) in released {
            print("   \(db.name.padding(toLength: 44, withPad: " ", startingAt: 0)) acquire \(ms(acquire))\(db.fromPool ? " (pool)" : "       ")  seeded types=\(types) own customers=\(customers)  phases: \(db.phases.summary)")
        }
        let sorted = acquires.sorted()
        print("   acquire p50 \(ms(sorted[sorted.count / 2])), max \(ms(sorted.last!))")

        print("\n-- 4. The article's bug: a connect hook that seeds (the connection_created receiver)")
        let buggy = TestDatabaseManager(
            prefix: "pgtkdemo", migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
            seeders: [NotificationTypeSync()],
            connectHooks: [.sql("INSERT INTO notification_types (name, description) VALUES ('sync_on_connect', 'written by a hook') ON CONFLICT DO NOTHING", name: "sync notification types on connect")],
            audit: .warn, poolSize: 0, label: "notifications-demo-buggy", logger: logger)
        let db = try await buggy.acquire(testName: "buggyHook", suite: "4. a connect hook that seeds")
        try await db.release()
        for violation in buggy.violations { print("   FLAGGED: \(violation)") }
        print("   (under PGTESTKIT_AUDIT=fail or CI=true the test fails instead)")

        await manager.shutdown()
        await buggy.shutdown()
        print("\nDone: every database created by the demo was dropped (check with `pgtestkit list`).")
        try RunReport.shared.writeTimeline(to: timeline)
        print("Timeline of the demo (open it in a browser): \(timeline)")
        print("   (tests write one with PGTESTKIT_TIMELINE=path.html; `pgtestkit report --html` merges processes' reports)")
    }

    private func ms(_ duration: Duration) -> String {
        String(format: "%6.1f ms", duration.milliseconds)
    }
}
