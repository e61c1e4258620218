import Fluent
import Vapor

/// Brings the database up to date: runs the Fluent migrations (what `swift run App migrate`
/// does), then syncs the notification catalog into them — the fix: reference data is written
/// only once the tables exist.
///
/// - Parameters:
///   - app: a configured application.
///   - catalog: the catalog to mirror.
public func migrateAndSyncCatalog(_ app: Application, catalog: NotificationCatalog = .standard) async throws {
    try await app.autoMigrate()
    try await syncNotificationTypes(on: app.db, catalog: catalog)
}
