import Fluent
import FluentPostgresDriver
import Foundation
import PostgresTestKit
import PostgresTestKitTesting
import Testing
import VaporTesting

/// An app configured the way Vapor's template configures its database — five environment
/// variables, TLS preferred — reaches a test database on the embedded TCP server from what
/// `PGTESTKIT_TCP=1 pgtestkit server env --database …` prints, and nothing else: no URL, no
/// `.pgpass`, no `ConnectionDetails`.
@Suite(.testDatabase(.vaporNotificationsTCP))
struct VaporTemplateConfigurationTests {
    /// The package's `pgtestkit`, built before the Examples (`scripts/test` builds it first).
    static let cli = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/pgtestkit").path

    /// The `export NAME='value'` lines of `server env`, as a shell reads them.
    static func serverEnv(database: String) throws -> [String: String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cli)
        process.arguments = ["server", "env", "--database", database]
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_TCP"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var values: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...].dropFirst().dropLast())
                .replacingOccurrences(of: "'\\''", with: "'")
        }
        return values
    }

    @Test func theTemplatesFiveVariablesFromServerEnvConnect() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try #require(FileManager.default.isExecutableFile(atPath: Self.cli), "build the package's pgtestkit first (swift build at the repository root)")
        let env = try Self.serverEnv(database: db.name)
        #expect(env["DATABASE_NAME"] == db.name)
        let app = try await Application.make(.testing)
        // As Vapor's template writes it in configure.swift.
        app.databases.use(DatabaseConfigurationFactory.postgres(configuration: .init(
            hostname: env["DATABASE_HOST"] ?? "localhost",
            port: env["DATABASE_PORT"].flatMap(Int.init(_:)) ?? SQLPostgresConfiguration.ianaPortNumber,
            username: env["DATABASE_USERNAME"] ?? "vapor_username",
            password: env["DATABASE_PASSWORD"] ?? "vapor_password",
            database: env["DATABASE_NAME"] ?? "vapor_database",
            tls: .prefer(try .init(configuration: .clientDefault)))
        ), as: .psql)
        do {
            let sql = try #require(app.db as? any SQLDatabase)
            let row = try await sql.raw("SELECT current_database() AS name, count(*)::int AS kinds FROM notification_types").first()
            #expect(try row?.decode(column: "name", as: String.self) == db.name)
            #expect(try row?.decode(column: "kinds", as: Int.self) ?? 0 > 0, "the seeded catalog is there")
        } catch {
            try await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
