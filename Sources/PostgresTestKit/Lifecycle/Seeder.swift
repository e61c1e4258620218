/// Puts data into a migrated database: the Swift form of Django's `post_migrate` receiver.
///
/// Seeders run in phase ``Phase/seeding``, only after the migrator returned, in declaration
/// order. By default they run once, in the template, so every clone starts seeded; a seeder
/// whose ``scope`` is ``SeedScope/perTest`` runs on every clone instead.
public protocol Seeder: Sendable {
    /// A stable name for reports and the template fingerprint.
    var identity: String { get }
    /// Changes whenever the data it writes would change; part of the template fingerprint.
    var version: String { get }
    /// Where the seeder runs.
    var scope: SeedScope { get }
    /// Writes the data (phase ``Phase/seeding``).
    func seed(_ context: PreparationContext) async throws
}

/// Where a ``Seeder`` runs.
public enum SeedScope: String, Sendable {
    /// Once, in the template; every clone inherits the rows.
    case template
    /// On every clone, before the test gets it.
    case perTest
}

extension Seeder {
    /// Seeders run in the template unless they say otherwise.
    public var scope: SeedScope { .template }
}

/// Built-in seeders.
public enum Seeders {
    /// Runs SQL files, in the given order.
    public static func sqlFiles(_ files: [URL], scope: SeedScope = .template) -> any Seeder {
        SQLFilesSeeder(files: files, scope: scope)
    }

    /// A seeder written in Swift.
    public static func closure(
        identity: String, version: String, scope: SeedScope = .template,
        _ body: @escaping @Sendable (PreparationContext) async throws -> Void
    ) -> any Seeder {
        ClosureSeeder(identity: identity, version: version, scope: scope, body: body)
    }
}

struct ClosureSeeder: Seeder {
    let identity: String
    let version: String
    let scope: SeedScope
    let body: @Sendable (PreparationContext) async throws -> Void
    func seed(_ context: PreparationContext) async throws { try await body(context) }
}

struct SQLFilesSeeder: Seeder {
    let files: [URL]
    let scope: SeedScope
    var identity: String { "sql:" + files.map(\.lastPathComponent).joined(separator: ",") }
    var version: String {
        files.map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "<unreadable \($0.path)>" }.joined(separator: "\u{1e}")
    }

    func seed(_ context: PreparationContext) async throws {
        for file in files {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw TestKitError(.seedFailed, "cannot read the seed file \(file.path): \(error.localizedDescription)")
            }
            let script = SQLScript(text)
            for statement in script.statements {
                do {
                    try await context.connection.simpleQuery(statement.text)
                } catch let error as PGError {
                    throw TestKitError(.seedFailed, "seed file " + script.failure(of: statement, in: file.path, error), underlying: error)
                }
            }
        }
    }
}

import struct Foundation.URL
