import Foundation
import Testing
@testable import PostgresTestKit

@Suite("Connection details")
struct ConnectionDetailsTests {
    @Test func aSocketServerGivesLibpqAndPostgresKitURLs() {
        let details = ConnectionDetails(parameters: ["host": "/dev/shm/pgtk dir", "port": "5432", "user": "postgres", "dbname": "app_test_1"])
        #expect(details.host == nil)
        #expect(details.socketDirectory == "/dev/shm/pgtk dir")
        #expect(details.unixSocketPath == "/dev/shm/pgtk dir/.s.PGSQL.5432")
        #expect(details.url == "postgresql://postgres@/app_test_1?host=%2Fdev%2Fshm%2Fpgtk%20dir&port=5432")
        #expect(details.postgresKitURL == "postgresql+uds://postgres@localhost/dev/shm/pgtk%20dir/.s.PGSQL.5432#app_test_1")
    }

    @Test func overTCPBothURLsAreOneAndTLSIsOffForLoopback() {
        let details = ConnectionDetails(parameters: ["host": "127.0.0.1", "port": "20001", "user": "postgres", "password": "p@ss:w/rd", "dbname": "db"])
        #expect(details.host == "127.0.0.1" && details.unixSocketPath == nil)
        #expect(details.url == "postgresql://postgres:p%40ss%3Aw%2Frd@127.0.0.1:20001/db?sslmode=disable")
        #expect(details.postgresKitURL == details.url)
        #expect("\(details)".contains("p%40ss") == false)
        #expect(details.environment["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:20001/db?sslmode=disable")
        #expect(details.environment.values.contains { $0.contains("p%40ss") || $0.contains("p@ss") } == false)
    }

    /// TLS asked for by the configuration is kept; a remote host is never downgraded.
    @Test func requiredTLSAndRemoteHostsKeepTheirSSLMode() {
        let required = ConnectionDetails(parameters: ["host": "127.0.0.1", "user": "u", "dbname": "d", "sslmode": "verify-full"])
        #expect(required.url.hasSuffix("?sslmode=verify-full"))
        let remote = ConnectionDetails(parameters: ["host": "db.internal", "user": "u", "dbname": "d"])
        #expect(remote.url.hasSuffix("?sslmode=prefer"))
        let ipv6 = ConnectionDetails(parameters: ["host": "::1", "port": "5433", "user": "u", "dbname": "d"])
        #expect(ipv6.url == "postgresql://u@[::1]:5433/d?sslmode=disable")
    }

    /// libpq itself reads the URL and the keyword form back to the same database.
    @Test func libpqConnectsThroughEveryFormOfATestDatabase() async throws {
        try await TestSupport.withDatabase("details") { db in
            let details = db.connectionDetails
            #expect(details.database == db.name)
            #expect(db.url == details.url)
            for form in [ConnectionString(details.url), details.connectionString] {
                let client = try await Connection.connect(to: form, logger: TestSupport.logger)
                #expect(try await client.scalar("SELECT current_database()", as: String.self) == db.name)
                await client.close()
            }
        }
    }

    /// `pgtestkit server env` prints the same URL shape as a test database's `url`, quoted for
    /// the shell, and psql reads it.
    @Test func serverEnvPrintsTheSameShapeThatPsqlReads() async throws {
        guard PostgresServerConfiguration.fromEnvironment().isEmbedded else { return }
        let output = try await Subprocess.run(TestSupport.cli, ["server", "env", "--database", "postgres"])
        #expect(output.succeeded)
        let server = try await EmbeddedServer.locate()
        let expected = ConnectionDetails(parameters: try server.connectionString.parameters()).url
        #expect(output.output.contains("export DATABASE_URL='\(expected)'"))
        let exports = output.output.split(separator: "\n").filter { $0.hasPrefix("export ") }.joined(separator: "\n")
        let psql = try await Subprocess.run("/bin/sh", ["-c", "eval \"$0\" && psql -XtA -c 'SELECT 42' \"$DATABASE_URL\"", exports])
        #expect(psql.output.trimmed == "42")
    }
}
