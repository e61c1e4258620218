import Foundation
import PostgresTestKit
import Testing
import VaporNotifications
import VaporTesting

/// The Django article's bug in Vapor form — a boot-time `LifecycleHandler` that seeds
/// (`seedOnBoot: true`) — and its fix, seeding after the migrations. Each builds a template of
/// its own, from the same Fluent migrations, the way the app is deployed: boot, then migrate.
///
/// Both use a new fingerprint on every run: a template reused from an earlier run would skip
/// the very build these tests watch.
@Suite("Seeding on boot (the bug) vs after migrations (the fix)")
struct SeedOnBootTests {
    /// The boot's statements are read from the embedded server's log; the audit must be on.
    static let auditable = PostgresServerConfiguration.fromEnvironment().isEmbedded
        && AuditPolicy.fromEnvironment(fallback: .warn) != .off

    @Test(.enabled(if: auditable, "the boot's writes are read from the embedded server's log"))
    func seedingOnBootIsFlagged() async throws {
        let manager = TestDatabaseManager(
            migrations: .closure(fingerprint: "vapor-seed-on-boot-\(UUID())") { context in
                try await withNotificationsApp(on: context.connectionDetails, seedOnBoot: true) { app in
                    try await app.autoMigrate()
                }
            },
            audit: .warn, poolSize: 0, label: "vapor-notifications-seed-on-boot")

        // The boot's sync meets a database without tables: it fails (42P01), the handler logs
        // and swallows the error as real apps do, the migrations go on — and the toolkit flags it.
        var db: PostgresTestDatabase?
        if manager.auditPolicy == .fail {   // PGTESTKIT_AUDIT=fail: the template build fails instead
            await #expect(throws: (any Error).self) { try await manager.acquire(testName: "seedingOnBootIsFlagged") }
        } else {
            db = try await manager.acquire(testName: "seedingOnBootIsFlagged")
        }
        let violation = try #require(manager.violations.first { $0.kind == .writeBeforeMigrations })
        #expect(violation.statement?.contains("notification_types") == true)
        #expect(violation.phase == .migrating)
        #expect(violation.database.hasPrefix("\(manager.prefix)_tplb_"))   // the template's scratch database
        #expect(violation.source?.fileID == #fileID)   // the line of the migrations closure above

        if let db {
            #expect(violation.database != db.name)
            // What the bug costs: the boot's sync was lost, so the catalog is missing.
            #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == 0)
            try await db.release()
        }
        await manager.shutdown()
    }

    @Test func seedingAfterMigrationsIsClean() async throws {
        let manager = TestDatabaseManager(
            migrations: .closure(fingerprint: "vapor-seed-after-migrations-\(UUID())") { context in
                try await withNotificationsApp(on: context.connectionDetails) { app in
                    try await app.autoMigrate()
                }
            },
            seeders: [NotificationTypesSeeder()],
            audit: .warn, poolSize: 0, label: "vapor-notifications-seed-after-migrations")
        let db = try await manager.acquire(testName: "seedingAfterMigrationsIsClean")
        #expect(manager.violations.isEmpty)
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(try res.content.decode([NotificationTypeDTO].self).count == NotificationCatalog.standard.kinds.count)
            }
        }
        try await db.release()
        await manager.shutdown()
    }
}
