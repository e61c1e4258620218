import PostgresTestKit
import Vapor

extension TestDatabaseManager {
    /// The Vapor app's test databases. The template is built the way the app is deployed: boot
    /// the app on the new database, run its Fluent migrations (what `swift run App migrate`
    /// does), shut it down; then ``NotificationTypesSeeder`` syncs the catalog. Every test gets
    /// a clone of it.
    static let vaporNotifications = TestDatabaseManager(
        migrations: .closure { context in
            try await withNotificationsApp(on: context.connectionDetails) { app in
                try await app.autoMigrate()
            }
        },
        seeders: [NotificationTypesSeeder()],
        label: "vapor-notifications"
    )
}
