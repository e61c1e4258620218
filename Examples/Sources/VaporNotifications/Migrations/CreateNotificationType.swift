import Fluent

/// Creates `notification_types`, the registry the catalog is synced into (after migrations).
public struct CreateNotificationType: AsyncMigration {
    /// The migration.
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema(NotificationType.schema)
            .id()
            .field("name", .string, .required)
            .field("description", .string, .required)
            .field("is_active", .bool, .required)
            .unique(on: "name")
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema(NotificationType.schema).delete()
    }
}
