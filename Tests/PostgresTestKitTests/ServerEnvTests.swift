import Foundation
import Testing
@testable import PostgresTestKit

/// `pgtestkit server env` serves every client: `DATABASE_URL` in libpq's form without a
/// password, as before; over TCP the five variables Vapor's template reads and a URL
/// PostgresKit accepts, enough to connect without any `.pgpass` file.
@Suite("pgtestkit server env")
struct ServerEnvTests {
    /// The `export NAME='value'` lines of `server env`, as a shell would read them.
    static func variables(_ environment: [String: String]) async throws -> (values: [String: String], output: String) {
        let result = try await Subprocess.run(AuditCommandTests.executable, ["server", "env"], environment: environment)
        #expect(result.status == 0, "\(result.output)")
        var values: [String: String] = [:]
        for line in result.output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            let quoted = assignment[assignment.index(after: equals)...]
            values[String(assignment[..<equals])] = String(quoted.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
        }
        return (values, result.output)
    }

    @Test func overTCPTheVaporVariablesAndThePostgresKitURLConnectWithoutAPasswordFile() async throws {
        let base = EmbeddedServerSafetyTests.scratchBase()
        var environment = ProcessInfo.processInfo.environment
        for key in ["DATABASE_URL", "PGTESTKIT_URL", "PGHOST", "PGPORT", "PGPASSFILE", "PGPASSWORD"] { environment[key] = nil }
        environment["PGTESTKIT_DATA_DIR"] = base
        environment["PGTESTKIT_TCP"] = "1"
        let server = try await EmbeddedServer.locate(environment: environment)
        defer { Task { await EmbeddedServerTests.remove(server, base) } }
        let (values, output) = try await Self.variables(environment)
        let password = try #require(server.password)
        #expect(values["DATABASE_HOST"] == "127.0.0.1")
        #expect(values["DATABASE_PORT"] == String(server.port))
        #expect(values["DATABASE_USERNAME"] == "postgres")
        #expect(values["DATABASE_PASSWORD"] == password)
        #expect(values["DATABASE_NAME"] == "postgres")
        #expect(values["DATABASE_URL"]?.contains(password) == false, "DATABASE_URL stays libpq's, without the password")
        // The five alone, as Vapor's template passes them, with no .pgpass to fall back on.
        let vapor = ConnectionString.keywordForm([
            "host": values["DATABASE_HOST"] ?? "", "port": values["DATABASE_PORT"] ?? "", "user": values["DATABASE_USERNAME"] ?? "",
            "password": values["DATABASE_PASSWORD"] ?? "", "dbname": values["DATABASE_NAME"] ?? "", "passfile": "/nonexistent",
        ])
        let client = try await Connection.connect(to: vapor, logger: TestSupport.logger)
        #expect(try await client.scalar("SELECT 1", as: Int.self) == 1)
        await client.close()
        let kitURL = try #require(values["PGTESTKIT_POSTGRESKIT_URL"])
        #expect(kitURL.hasPrefix("postgresql://postgres:"))
        let viaURL = try await Connection.connect(to: ConnectionString(kitURL + "&passfile=/nonexistent"), logger: TestSupport.logger)
        #expect(try await viaURL.scalar("SELECT 1", as: Int.self) == 1)
        await viaURL.close()
        #expect(!output.contains("# Vapor's template"))
    }

    @Test func overTheSocketThePostgresKitURLIsTheUnixSocketFormAndVaporIsToldToUseTCP() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_TCP"] = nil
        guard PostgresServerConfiguration.resolving(environment).isEmbedded else { return }   // PGTESTKIT_URL: no embedded server
        let (values, output) = try await Self.variables(environment)
        #expect(values["PGTESTKIT_POSTGRESKIT_URL"]?.hasPrefix("postgresql+uds://postgres@localhost/") == true, "\(values)")
        #expect(values["DATABASE_PASSWORD"] == nil)
        #expect(values["DATABASE_URL"]?.hasPrefix("postgresql://postgres@/postgres?host=") == true)
        #expect(output.contains("# Vapor's template reads DATABASE_HOST"))
    }
}
