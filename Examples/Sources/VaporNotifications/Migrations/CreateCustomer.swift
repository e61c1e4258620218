import Fluent

/// Creates `customers`.
public struct CreateCustomer: AsyncMigration {
    /// The migration.
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema(Customer.schema)
            .id()
            .field("email", .string, .required)
            .field("name", .string, .required)
            .field("created_at", .datetime)
            .unique(on: "email")
            .create()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema(Customer.schema).delete()
    }
}
