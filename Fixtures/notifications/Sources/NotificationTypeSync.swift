import PostgresTestKit

/// The article's `post_migrate` receiver as a ``Seeder``: an idempotent sync of the Swift
/// catalog into `notification_types` — upsert by name, deactivate rows no longer in code.
///
/// It runs after migrations (phase `seeding`), in the template, so every clone starts with
/// the rows. Running it again is harmless.
public struct NotificationTypeSync: Seeder {
    /// The catalog to mirror.
    public let catalog: NotificationCatalog

    /// A sync of `catalog` (the standard one by default).
    public init(catalog: NotificationCatalog = .standard) { self.catalog = catalog }

    public var identity: String { "notifications.NotificationTypeSync" }

    /// Changes whenever the catalog does, so the template is rebuilt.
    public var version: String {
        catalog.kinds.map { "\($0.name)=\($0.description)" }.joined(separator: ";")
    }

    public func seed(_ context: PreparationContext) async throws {
        try await Self.sync(catalog, on: context.connection)
    }

    /// The sync itself, usable on any connection to a migrated database.
    public static func sync(_ catalog: NotificationCatalog, on connection: Connection) async throws {
        for kind in catalog.kinds {
            try await connection.execute("""
                INSERT INTO notification_types (name, description, is_active) VALUES ($1, $2, true)
                ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, is_active = true
                """, kind.name, kind.description)
        }
        let names = catalog.kinds.map(\.name).joined(separator: "\u{1f}")
        try await connection.execute("""
            UPDATE notification_types SET is_active = false
            WHERE is_active AND NOT (name = ANY (string_to_array($1, chr(31))))
            """, names)
    }
}
