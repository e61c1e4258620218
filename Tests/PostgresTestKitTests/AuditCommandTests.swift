import Foundation
import Testing
@testable import PostgresTestKit

/// `pgtestkit audit -- COMMAND`, run for real with `psql`, against an embedded server of its
/// own: the audit reads the whole server's log, so the other tests' traffic must not be there.
@Suite("pgtestkit audit (server-log audit of any command)", .serialized)
struct AuditCommandTests {
    static let dataDirectory = "/dev/shm/pgtestkit-audit-tests-\(getuid())"

    func server() async throws -> EmbeddedServer {
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": Self.dataDirectory])
        try await server.start(logger: TestSupport.logger)
        return server
    }

    struct Run {
        let status: Int32
        let output: String
    }

    func audit(_ script: String, database: String = "postgres") async throws -> Run {
        let executable = TestSupport.repositoryRoot.appendingPathComponent(".build/debug/pgtestkit").path
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build the pgtestkit product first (scripts/test does)")
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_DATA_DIR"] = Self.dataDirectory
        let output = try await Subprocess.run(executable, ["audit", "--database", database, "--", "/bin/sh", "-c", script], environment: environment)
        return Run(status: output.status, output: output.output)
    }

    func embeddedOnly() async throws -> Bool {
        try #require(Subprocess.which("psql") != nil, "psql (postgresql-client) is needed; scripts/test installs it")
        return true
    }

    @Test func flagsAWriteToTheMaintenanceDatabase() async throws {
        guard try await embeddedOnly() else { return }
        let run = try await audit("psql -q -c 'CREATE TABLE audit_oops (x int)' && psql -q -c 'DROP TABLE audit_oops'")
        #expect(run.status != 0)
        #expect(run.output.contains("write_to_maintenance_database in database postgres: CREATE TABLE audit_oops"))
    }

    @Test func passesACleanScript() async throws {
        guard try await embeddedOnly() else { return }
        let name = TestSupport.uniquePrefix("auditclean")
        let run = try await audit("createdb \(name) && psql -q -d \(name) -c 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)' && dropdb \(name)")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("0 finding(s)"))
    }

    /// The worst form of the article's bug: the developer's migrated dev database exists, and
    /// the test set-up's hook writes land in it silently.
    @Test func flagsWritesToADatabaseThatExistedBeforeAndConnectionsToIt() async throws {
        guard try await embeddedOnly() else { return }
        let dev = TestSupport.uniquePrefix("devdb")
        let setup = try await Connection.connect(to: try await server().connectionString)
        try await setup.execute("CREATE DATABASE \(dev)")
        let devConnection = try await Connection.connect(to: try await server().connectionString, database: dev)
        try await devConnection.execute("CREATE TABLE notification_types (name text PRIMARY KEY)")
        await devConnection.close()
        let run = try await audit("psql -q -c \"INSERT INTO notification_types VALUES ('sync_on_connect')\"", database: dev)
        #expect(run.status != 0)
        #expect(run.output.contains("connection_to_foreign_database in database \(dev)"))
        #expect(run.output.contains("write_to_foreign_database in database \(dev): INSERT INTO notification_types"))
        try await setup.execute("DROP DATABASE \(dev) WITH (FORCE)")
    }

    @Test func flagsAWriteIntoACreatedDatabaseBeforeItsSchema() async throws {
        guard try await embeddedOnly() else { return }
        let name = TestSupport.uniquePrefix("auditearly")
        let run = try await audit("""
            createdb \(name); psql -q -d \(name) -c "INSERT INTO notification_types VALUES ('x')" 2>/dev/null; \
            psql -q -d \(name) -c 'CREATE TABLE notification_types (name text)'; dropdb \(name)
            """)
        #expect(run.status != 0)
        #expect(run.output.contains("write_before_migrations in database \(name) during phase connecting: INSERT INTO notification_types"))
    }
}
