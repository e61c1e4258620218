import Logging

/// What a migrator or seeder receives: the database being prepared, a connection to it,
/// and its connection string for an app's own client (PostgresNIO, Fluent, libpq).
public struct PreparationContext: Sendable, CustomStringConvertible {
    public var description: String { "PreparationContext(\(database), \(phase), \(Redaction.redact(url)))" }

    /// The database's name.
    public let database: String
    /// A read-write connection to it, owned by the toolkit (do not close it).
    public let connection: Connection
    /// The database's connection string (keyword form); redacted when printed.
    package let connectionString: ConnectionString
    /// The database's address as typed parts, for the app's own client (PostgresNIO, Fluent).
    public let connectionDetails: ConnectionDetails
    /// The URL libpq, `psql` and Python stacks read; it carries the password, if any. PostgresKit
    /// and Fluent take ``ConnectionDetails/postgresKitURL``.
    public var url: String { connectionDetails.url }
    /// The phase the database is in.
    public let phase: Phase
    /// The manager's logger.
    public let logger: Logger
}
