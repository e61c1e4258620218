import Foundation

/// Runs the `*.sql` files of a directory in version order and records them in
/// `pgtestkit.schema_migrations`.
///
/// Files sort by their leading number (`2_x.sql` before `10_y.sql`), then by name. Each file
/// runs in its own transaction unless its first line contains `pgtestkit:no-transaction`
/// (for `CREATE INDEX CONCURRENTLY` and the like). A failure names the file, the line and
/// column, the SQLSTATE and the server's message, detail and hint.
package struct SQLDirectoryMigrator: SchemaMigrator {
    /// The directory holding the migration files.
    package let directory: URL

    /// A migrator over `directory`.
    package init(directory: URL) { self.directory = directory }

    /// The marker that opts a file out of its transaction.
    package static let noTransactionMarker = "pgtestkit:no-transaction"

    struct File: Sendable {
        let name: String
        let contents: String
    }

    func files() throws -> [File] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        } catch {
            throw TestKitError(.migrationFailed, "cannot read the migrations directory \(directory.path): \(error.localizedDescription). Check the path given to .sqlDirectory(_:).")
        }
        return try Self.versionOrder(names).map { name in
            File(name: name, contents: try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }

    /// Sorts file names by their leading integer, then by name.
    static func versionOrder(_ names: [String]) -> [String] {
        func version(_ name: String) -> Int? { Int(name.prefix(while: \.isNumber)) }
        return names.sorted { a, b in
            switch (version(a), version(b)) {
            case let (x?, y?) where x != y: x < y
            case (_?, nil): true
            case (nil, _?): false
            default: a < b
            }
        }
    }

    /// Every file's name and contents, in version order.
    package var fingerprint: String {
        get throws {
            try files().map { "migration:\($0.name)\n\($0.contents)" }.joined(separator: "\n\u{1e}")
        }
    }

    /// Applies every file, statement by statement, and records it in `pgtestkit.schema_migrations`.
    package func migrate(_ context: PreparationContext) async throws {
        let connection = context.connection
        try await connection.simpleQuery("""
            CREATE SCHEMA IF NOT EXISTS pgtestkit;
            CREATE TABLE IF NOT EXISTS pgtestkit.schema_migrations (
                version text PRIMARY KEY, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now());
            """)
        for file in try files() {
            let script = SQLScript(file.contents)
            let transactional = !(file.contents.split(separator: "\n").first?.contains(Self.noTransactionMarker) ?? false)
            let started = ContinuousClock.now
            if transactional { try await connection.execute("BEGIN") }
            do {
                for statement in script.statements {
                    do {
                        try await connection.simpleQuery(statement.text)
                    } catch let error as PGError {
                        throw failure(file, script, statement, error)
                    }
                }
                try await connection.execute(
                    "INSERT INTO pgtestkit.schema_migrations (version, checksum) VALUES ($1, md5($2))",
                    file.name, file.contents)
                if transactional { try await connection.execute("COMMIT") }
            } catch {
                if transactional { _ = try? await connection.execute("ROLLBACK") }
                throw error
            }
            context.logger.debug("applied migration", metadata: ["file": "\(file.name)", "ms": "\((ContinuousClock.now - started).milliseconds)"])
        }
    }

    private func failure(_ file: File, _ script: SQLScript, _ statement: SQLScript.Statement, _ error: PGError) -> TestKitError {
        var message = "migration " + script.failure(of: statement, in: "\(directory.path)/\(file.name)", error)
        message += "\nNothing was published: fix the file and run again (the template is rebuilt)."
        return TestKitError(.migrationFailed, message, underlying: error)
    }
}
