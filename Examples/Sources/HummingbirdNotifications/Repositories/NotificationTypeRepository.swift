import Logging
import PostgresNIO

/// Reads and syncs `notification_types`.
public struct NotificationTypeRepository: Sendable {
    /// The app's client.
    public let client: PostgresClient
    /// The logger for its queries.
    public let logger: Logger

    /// A repository on `client`.
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The active notification types, by name.
    public func active() async throws -> [NotificationType] {
        let rows = try await client.query(
            "SELECT name, description FROM notification_types WHERE is_active ORDER BY name", logger: logger)
        var types: [NotificationType] = []
        for try await (name, description) in rows.decode((String, String).self) {
            types.append(NotificationType(name: name, description: description))
        }
        return types
    }

    /// Mirrors `catalog` into `notification_types`: upserts by name, deactivates rows no longer
    /// in code. Idempotent; run it after the migrations, never before.
    public func sync(_ catalog: NotificationCatalog) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for kind in catalog.kinds {
                try await connection.query("""
                    INSERT INTO notification_types (name, description, is_active) VALUES (\(kind.name), \(kind.description), true)
                    ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, is_active = true
                    """, logger: logger)
            }
            let names = catalog.kinds.map(\.name)
            try await connection.query(
                "UPDATE notification_types SET is_active = false WHERE is_active AND name <> ALL (\(names))", logger: logger)
        }
    }
}
