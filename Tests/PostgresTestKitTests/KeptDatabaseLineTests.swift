import Foundation
import Testing
@testable import PostgresTestKit

/// The line printed for a kept database (`PGTESTKIT_KEEP`) connects as printed, on the
/// embedded TCP server too, and never holds the password.
@Suite("The kept database's psql line")
struct KeptDatabaseLineTests {
    @Test func overTCPTheKeptLineConnectsAsPrintedWithoutThePassword() async throws {
        let base = EmbeddedServerSafetyTests.scratchBase()
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base, "PGTESTKIT_TCP": "1"])
        let manager = TestDatabaseManager(
            server: PostgresServerConfiguration(kind: .embedded(dataDirectory: base, tcp: true), source: "private TCP test server"),
            prefix: TestSupport.uniquePrefix(), keep: .all, poolSize: 0, logger: TestSupport.logger)
        do {
            let db = try await manager.acquire(testName: "keptovertcp")
            try await db.release(testFailed: true)
            let password = try #require(server.password)
            let line = try #require(RunReport.shared.snapshot.kept.first { $0.hasPrefix(db.name + " ") })
            #expect(!line.contains(password), "the password must never be printed")
            #expect(!line.contains(Redaction.mask))
            let separator = try #require(line.range(of: "): "))
            let command = String(line[separator.upperBound...])
            #expect(command.hasPrefix("PGPASSFILE='\(server.passwordFile)' psql '"), "\(command)")
            // As a user would paste it: no PGPASSWORD, no PGPASSFILE, no ~/.pgpass of theirs.
            var environment = ProcessInfo.processInfo.environment
            for key in ["PGPASSWORD", "PGPASSFILE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "DATABASE_URL", "PGTESTKIT_URL"] {
                environment[key] = nil
            }
            environment["HOME"] = "/nonexistent"
            let psql = try await Subprocess.run("/bin/sh", ["-c", command + " -XtA -c 'SELECT current_database()'"], environment: environment)
            #expect(psql.output.trimmed == db.name, "\(command): \(psql.output)")
        } catch {
            await manager.shutdown()
            await EmbeddedServerTests.remove(server, base)
            throw error
        }
        await manager.shutdown()
        await EmbeddedServerTests.remove(server, base)
    }

    @Test func theCommandQuotesForTheShellAndSaysWhereAnotherServersPasswordComesFrom() {
        let tcp = ConnectionDetails(host: "127.0.0.1", port: 5433, user: "postgres", password: "s3cret", database: "db")
        #expect(TestDatabaseManager.keptCommand(tcp, passwordFile: "/tmp/it's/pgpass")
                == #"PGPASSFILE='/tmp/it'\''s/pgpass' psql 'postgresql://postgres@127.0.0.1:5433/db?sslmode=disable'"#)
        #expect(TestDatabaseManager.keptCommand(tcp, passwordFile: nil)
                == "psql 'postgresql://postgres@127.0.0.1:5433/db?sslmode=disable' (password: PGPASSWORD or PGPASSFILE)")
    }
}
