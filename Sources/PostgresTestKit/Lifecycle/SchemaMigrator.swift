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

    /// Migrations written in Swift (for example an app's Fluent migrations, run through
    /// `context.connectionDetails`).
    ///
    /// Without a `fingerprint`, the template is keyed by the identity of the test executable
    /// (path, size, modification time): a rebuilt test binary — a changed migration among
    /// whatever else changed — gets a fresh template on its next run, and re-runs of the same
    /// binary (or its parallel processes) reuse it. Give a `fingerprint` that you change with
    /// the schema to keep the template across rebuilds; forget to change it and tests run on a
    /// stale schema. The line that calls `closure` is part of the key too, so two managers
    /// with different Swift migrations in one test binary never share a template.
    public static func closure(
        fingerprint: String? = nil, fileID: String = #fileID, line: Int = #line,
        _ body: @escaping @Sendable (PreparationContext) async throws -> Void
    ) -> SchemaMigrations {
        SchemaMigrations(migrator: ClosureMigrator(
            fingerprintValue: fingerprint, sources: nil, site: RegistrationSite(fileID: fileID, line: line), body: body))
    }

    /// Migrations written in Swift, keyed by the contents of their source files: the
    /// template is rebuilt when one of those files changes, and kept across every other
    /// rebuild of the tests (a test edited, a dependency bumped).
    ///
    /// `sources` are files or directories (read recursively, hidden files left out), relative
    /// to the package root: the nearest directory above `filePath` (the caller's file) that
    /// holds a `Package.swift`. Their names and contents are hashed when the template is
    /// looked up. What is not in them — the closure's own body, code it calls elsewhere —
    /// does not key the template: list every file that shapes the schema.
    public static func closure(
        sources: [String], filePath: String = #filePath, fileID: String = #fileID, line: Int = #line,
        _ body: @escaping @Sendable (PreparationContext) async throws -> Void
    ) -> SchemaMigrations {
        SchemaMigrations(migrator: ClosureMigrator(
            fingerprintValue: nil, sources: MigrationSources(paths: sources, callerFile: filePath),
            site: RegistrationSite(fileID: fileID, line: line), body: body))
    }

    /// Any other ``SchemaMigrator``.
    public static func custom(_ migrator: any SchemaMigrator) -> SchemaMigrations {
        SchemaMigrations(migrator: migrator)
    }
}

struct ClosureMigrator: SchemaMigrator {
    let fingerprintValue: String?
    let sources: MigrationSources?
    let site: RegistrationSite
    let body: @Sendable (PreparationContext) async throws -> Void
    var fingerprint: String {
        get throws {
            if let sources { return "closure@\(site):sources\n" + (try sources.fingerprint()) }
            return "closure@\(site):" + (try fingerprintValue ?? "executable \(ExecutableIdentity.current())")
        }
    }
    func migrate(_ context: PreparationContext) async throws { try await body(context) }
}

import struct Foundation.URL
