/// One schema change: a name recorded in `schema_migrations`, and SQL statements run in order.
public struct Migration: Sendable, Hashable {
    /// The name, unique; migrations are applied in the order of ``Migrator/migrations``.
    public let name: String
    /// The statements, one per string.
    public let statements: [String]

    /// A migration of one or more statements.
    public init(_ name: String, _ statements: String...) {
        self.name = name
        self.statements = statements
    }
}
