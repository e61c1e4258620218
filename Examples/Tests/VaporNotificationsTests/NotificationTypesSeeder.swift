import PostgresTestKit
import VaporNotifications

/// The app's catalog sync as a toolkit `Seeder`: it runs after the Fluent migrations, in the
/// template, so every test database starts with the notification types — the fix.
struct NotificationTypesSeeder: Seeder {
    /// The catalog to mirror.
    var catalog: NotificationCatalog = .standard

    var identity: String { "VaporNotifications.syncNotificationTypes" }

    /// Changes with the catalog, so a changed catalog gets a fresh template.
    var version: String { catalog.version }

    func seed(_ context: PreparationContext) async throws {
        try await withNotificationsApp(on: context.connectionDetails) { app in
            try await syncNotificationTypes(on: app.db, catalog: catalog)
        }
    }
}
