import Fluent

/// Creates `customer_notification_types`, which customer subscribed to which type.
public struct CreateCustomerNotificationType: AsyncMigration {
    /// The migration.
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema(CustomerNotificationType.schema)
            .id()
            .field("customer_id", .uuid, .required, .references(Customer.schema, "id", onDelete: .cascade))
            .field("notification_type_id", .uuid, .required, .references(NotificationType.schema, "id", onDelete: .cascade))
            .field("subscribed_at", .datetime)
            .unique(on: "customer_id", "notification_type_id")
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema(CustomerNotificationType.schema).delete()
    }
}
