/// Brings an empty database to the application's schema. Runs once per template.
///
/// The ``fingerprint`` must change whenever the schema it produces would: it keys the
/// template, so that an unchanged migrator is never run again.
public protocol SchemaMigrator: Sendable {
    /// Everything that shapes the schema (file names and contents, a version, ...).
    var fingerprint: String { get async throws }
    /// Runs the migrations on the database in `context` (phase ``Phase/migrating``).
    func migrate(_ context: PreparationContext) async throws
}

/// The migrations of a ``TestDatabaseManager``: a SQL directory, Swift code, or none.
public struct SchemaMigrations: Sendable {
    let migrator: (any SchemaMigrator)?

    /// No migrations: each test gets an empty database.
    public static let none = SchemaMigrations(migrator: nil)

    /// `*.sql` files run in version order, each in its own transaction unless its first line
    /// holds `-- pgtestkit:no-transaction`.
    public static func sqlDirectory(_ directory: URL) -> SchemaMigrations {
        SchemaMigrations(migrator: SQLDirectoryMigrator(directory: directory))
    }

    /// Migrations written in Swift (for example an app pointing its own client at
    /// `context.url`). Change `fingerprint` whenever the schema changes.
    public static func closure(
        fingerprint: String, _ body: @escaping @Sendable (PreparationContext) async throws -> Void
    ) -> SchemaMigrations {
        SchemaMigrations(migrator: ClosureMigrator(fingerprintValue: fingerprint, body: body))
    }

    /// Any other ``SchemaMigrator``.
    public static func custom(_ migrator: any SchemaMigrator) -> SchemaMigrations {
        SchemaMigrations(migrator: migrator)
    }
}

struct ClosureMigrator: SchemaMigrator {
    let fingerprintValue: String
    let body: @Sendable (PreparationContext) async throws -> Void
    var fingerprint: String { "closure:\(fingerprintValue)" }
    func migrate(_ context: PreparationContext) async throws { try await body(context) }
}

import struct Foundation.URL
