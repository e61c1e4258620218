import Fluent

/// Mirrors `catalog` into `notification_types`: creates missing kinds, updates descriptions,
/// reactivates returning kinds and deactivates rows no longer in code. Idempotent.
///
/// Call it after the migrations (``migrateAndSyncCatalog(_:catalog:)``, or a test seeder),
/// never before: on a fresh database the table does not exist yet.
///
/// - Parameters:
///   - database: a migrated database.
///   - catalog: the catalog to mirror.
public func syncNotificationTypes(on database: any Database, catalog: NotificationCatalog = .standard) async throws {
    try await database.transaction { database in
        var existing: [String: NotificationType] = [:]
        for type in try await NotificationType.query(on: database).all() {
            existing[type.name] = type
        }
        for kind in catalog.kinds {
            let type = existing.removeValue(forKey: kind.name) ?? NotificationType(name: kind.name, summary: kind.description)
            type.summary = kind.description
            type.isActive = true
            try await type.save(on: database)
        }
        for retired in existing.values where retired.isActive {
            retired.isActive = false
            try await retired.save(on: database)
        }
    }
}
