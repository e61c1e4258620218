import HummingbirdNotifications
import PostgresTestKit

extension TestDatabaseManager {
    /// The Hummingbird app's test databases: a template migrated by the app's own `Migrator`
    /// through a `PostgresClient`, then synced by ``NotificationCatalogSeeder``. Every test gets
    /// a clone of it. The template is keyed by the migrations' sources: editing a test keeps
    /// it, editing a migration rebuilds it.
    static let hummingbirdNotifications = TestDatabaseManager(
        migrations: .closure(sources: ["Sources/HummingbirdNotifications/Database"]) { context in
            try await withPostgresClient(context.connectionDetails) { client in
                _ = try await NotificationMigrations.migrator.migrate(on: client, logger: .tests)
            }
        },
        seeders: [NotificationCatalogSeeder()],
        label: "hummingbird-notifications"
    )

    /// The same, on the embedded server's TCP variant: 127.0.0.1, a port, a password.
    static let hummingbirdNotificationsTCP = TestDatabaseManager(
        server: .embeddedTCP,
        migrations: .closure(sources: ["Sources/HummingbirdNotifications/Database"]) { context in
            try await withPostgresClient(context.connectionDetails) { client in
                _ = try await NotificationMigrations.migrator.migrate(on: client, logger: .tests)
            }
        },
        seeders: [NotificationCatalogSeeder()],
        label: "hummingbird-notifications-tcp"
    )
}
