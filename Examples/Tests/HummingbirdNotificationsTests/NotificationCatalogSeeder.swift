import HummingbirdNotifications
import PostgresTestKit

/// The app's catalog sync as a toolkit `Seeder`: it runs after the migrations, in the template,
/// so every test database starts with the notification types — the fix.
struct NotificationCatalogSeeder: Seeder {
    /// The catalog to mirror.
    var catalog: NotificationCatalog = .standard

    var identity: String { "HummingbirdNotifications.NotificationTypeRepository.sync" }

    /// Changes with the catalog, so a changed catalog gets a fresh template.
    var version: String { catalog.version }

    func seed(_ context: PreparationContext) async throws {
        try await withPostgresClient(context.connectionDetails) { client in
            try await NotificationTypeRepository(client: client, logger: .tests).sync(catalog)
        }
    }
}
