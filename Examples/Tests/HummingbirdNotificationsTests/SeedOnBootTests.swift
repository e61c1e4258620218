import Foundation
import HummingbirdNotifications
import HummingbirdTesting
import PostgresTestKit
import Testing

/// The Django article's bug in Hummingbird form — the app's start-up syncs the catalog before
/// it migrates (`AppOptions(seedOnBoot: true)`) — and its fix, syncing after the migrations.
/// Each builds a template of its own by starting the app on the new database, as it is
/// deployed with `migrate: true`.
///
/// Both use a new fingerprint on every run: a template reused from an earlier run would skip
/// the very build these tests watch.
@Suite("Seeding on boot (the bug) vs after migrations (the fix)")
struct SeedOnBootTests {
    /// The boot's statements are read from the embedded server's log; the audit must be on.
    static let auditable = PostgresServerConfiguration.fromEnvironment().isEmbedded
        && AuditPolicy.fromEnvironment(fallback: .warn) != .off

    /// Starts the app on `details` — its start-up steps run — and stops it.
    static func start(on details: ConnectionDetails, seedOnBoot: Bool) async throws {
        let app = buildApplication(
            database: .init(details), options: AppOptions(migrate: true, seedOnBoot: seedOnBoot), logger: .tests)
        try await app.test(.router) { _ in }
    }

    @Test(.enabled(if: auditable, "the boot's writes are read from the embedded server's log"))
    func seedingOnBootIsFlagged() async throws {
        let manager = TestDatabaseManager(
            migrations: .closure(fingerprint: "hummingbird-seed-on-boot-\(UUID())") { context in
                try await Self.start(on: context.connectionDetails, seedOnBoot: true)
            },
            audit: .warn, poolSize: 0, label: "hummingbird-notifications-seed-on-boot")

        // The start-up's sync meets a database without tables: it fails (42P01), the app logs
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
            // What the bug costs: the start-up's sync was lost, so the catalog is missing.
            #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == 0)
            try await db.release()
        }
        await manager.shutdown()
    }

    @Test func seedingAfterMigrationsIsClean() async throws {
        let manager = TestDatabaseManager(
            migrations: .closure(fingerprint: "hummingbird-seed-after-migrations-\(UUID())") { context in
                try await Self.start(on: context.connectionDetails, seedOnBoot: false)
            },
            audit: .warn, poolSize: 0, label: "hummingbird-notifications-seed-after-migrations")
        let db = try await manager.acquire(testName: "seedingAfterMigrationsIsClean")
        #expect(manager.violations.isEmpty)
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            try await client.execute(uri: "/notification-types", method: .get) { response async throws in
                #expect(try response.decode([NotificationType].self).count == NotificationCatalog.standard.kinds.count)
            }
        }
        try await db.release()
        await manager.shutdown()
    }
}
