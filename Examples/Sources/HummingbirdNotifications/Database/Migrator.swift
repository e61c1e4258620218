import Logging
import PostgresNIO

/// Applies a list of ``Migration``s in order, each once, recording them in `schema_migrations`.
///
/// Pending migrations run in one transaction (PostgreSQL's DDL is transactional) under an
/// advisory lock, so two instances starting together migrate once and a failure applies nothing.
public struct Migrator: Sendable {
    /// The migrations, in the order they are applied.
    public let migrations: [Migration]

    /// A migrator for `migrations`.
    public init(_ migrations: [Migration]) {
        self.migrations = migrations
    }

    /// Applies the pending migrations; returns their names.
    @discardableResult
    public func migrate(on client: PostgresClient, logger: Logger) async throws -> [String] {
        let migrations = self.migrations
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            var ran: [String] = []
            for migration in migrations where !applied.contains(migration.name) {
                logger.info("applying migration \(migration.name)")
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                ran.append(migration.name)
            }
            return ran
        }
    }

    /// The advisory lock key that serialises migrators.
    static let lockKey: Int64 = 0x6E6F_7469_6679   // "notify"
}
