import Logging
import PostgresNIO

/// Creates customers and their subscriptions.
public struct CustomerRepository: Sendable {
    /// The app's client.
    public let client: PostgresClient
    /// The logger for its queries.
    public let logger: Logger

    /// A repository on `client`.
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Inserts a customer; a taken email throws the server's unique violation (SQLSTATE 23505).
    public func create(email: String, name: String) async throws -> Customer {
        let rows = try await client.query(
            "INSERT INTO customers (email, name) VALUES (\(email), \(name)) RETURNING id", logger: logger)
        for try await id in rows.decode(Int64.self) {
            return Customer(id: id, email: email, name: name)
        }
        throw RepositoryError.noRowReturned("INSERT INTO customers … RETURNING id")
    }

    /// Subscribes a customer to an active notification type (again is a no-op); `false` when
    /// the customer or the type does not exist.
    public func subscribe(customerID: Int64, to typeName: String) async throws -> Bool {
        let rows = try await client.query("""
            WITH target AS (
                SELECT c.id AS customer_id, t.id AS type_id
                FROM customers c JOIN notification_types t ON t.name = \(typeName) AND t.is_active
                WHERE c.id = \(customerID)
            ), inserted AS (
                INSERT INTO customer_notification_types (customer_id, notification_type_id)
                SELECT customer_id, type_id FROM target
                ON CONFLICT DO NOTHING
            )
            SELECT count(*) FROM target
            """, logger: logger)
        for try await count in rows.decode(Int.self) {
            return count > 0
        }
        return false
    }
}
