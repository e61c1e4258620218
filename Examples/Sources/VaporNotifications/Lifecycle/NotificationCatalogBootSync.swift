import Vapor

/// **The bug** (kept on purpose, behind `configure(_:database:seedOnBoot:)`'s `seedOnBoot`):
/// syncs the catalog into `notification_types` when the app boots — the Vapor form of a Django
/// `connection_created` receiver that seeds.
///
/// On a running deployment the table exists and this looks harmless. On a fresh database — a
/// new environment, or every test database built from migrations — the app boots before it is
/// migrated: the sync fails on the missing table (or writes into a half-built schema), and, as
/// real apps do, the failure is only logged. PostgresTestKit flags it as
/// `write_before_migrations`. The fix is ``migrateAndSyncCatalog(_:catalog:)``: sync after the
/// migrations.
///
/// Only `didBootAsync` is implemented: it runs when the app boots with `asyncBoot()`.
public struct NotificationCatalogBootSync: LifecycleHandler {
    /// The catalog to mirror.
    public let catalog: NotificationCatalog

    /// A boot-time sync of `catalog`.
    public init(catalog: NotificationCatalog) {
        self.catalog = catalog
    }

    public func didBootAsync(_ application: Application) async throws {
        do {
            try await syncNotificationTypes(on: application.db, catalog: catalog)
        } catch {
            application.logger.warning("could not sync the notification catalog at boot: \(String(reflecting: error))")
        }
    }
}
