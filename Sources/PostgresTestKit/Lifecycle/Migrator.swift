/// Brings an empty database to the application's schema. Runs once per template.
///
/// The ``fingerprint`` must change whenever the schema it produces would: it keys the
/// template, so that an unchanged migrator is never run again.
public protocol Migrator: Sendable {
    /// Everything that shapes the schema (file names and contents, a version, ...).
    var fingerprint: String { get async throws }
    /// Runs the migrations on the database in `context` (phase ``Phase/migrating``).
    func migrate(_ context: DatabaseContext) async throws
}

/// The migrations of a ``TestDatabaseManager``: a SQL directory, Swift code, or none.
public struct Migrations: Sendable {
    let migrator: (any Migrator)?

    /// No migrations: each test gets an empty database.
    public static let none = Migrations(migrator: nil)

    /// `*.sql` files run in version order, each in its own transaction unless its first line
    /// holds `-- pgtestkit:no-transaction`.
    public static func sqlDirectory(_ directory: URL) -> Migrations {
        Migrations(migrator: SQLDirectoryMigrator(directory: directory))
    }

    /// Migrations written in Swift (for example an app pointing its own client at
    /// `context.url`). Change `fingerprint` whenever the schema changes.
    public static func closure(
        fingerprint: String, _ body: @escaping @Sendable (DatabaseContext) async throws -> Void
    ) -> Migrations {
        Migrations(migrator: ClosureMigrator(fingerprintValue: fingerprint, body: body))
    }

    /// Any other ``Migrator``.
    public static func custom(_ migrator: any Migrator) -> Migrations {
        Migrations(migrator: migrator)
    }
}

struct ClosureMigrator: Migrator {
    let fingerprintValue: String
    let body: @Sendable (DatabaseContext) async throws -> Void
    var fingerprint: String { "closure:\(fingerprintValue)" }
    func migrate(_ context: DatabaseContext) async throws { try await body(context) }
}

import struct Foundation.URL
