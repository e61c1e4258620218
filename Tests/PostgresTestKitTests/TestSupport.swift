import Foundation
import Logging
@testable import PostgresTestKit

/// Shared by the integration tests: the real server the suite runs against (the embedded one
/// unless PGTESTKIT_URL / DATABASE_URL / PG* say otherwise).
enum TestSupport {
    static let logger: Logger = {
        var logger = Logger(label: "PostgresTestKitTests")
        logger.logLevel = .error
        return logger
    }()

    static func server() async throws -> ConnectionString {
        try await PostgresServerConfiguration.fromEnvironment().resolve(logger: logger)
    }

    static func connect(database: String? = nil) async throws -> Connection {
        try await Connection.connect(to: server(), database: database ?? "postgres", logger: logger)
    }

    /// A superuser session that plays the server's own part in a fault test (a catalog row as
    /// an interrupted `DROP DATABASE` leaves it): named as the toolkit's, so the run log
    /// audit, which watches the whole test process, does not count it as the app writing
    /// into `postgres`.
    static func connectAsServerFault() async throws -> Connection {
        try await Connection.connect(to: server(), database: "postgres", applicationName: "pgtestkit-tests:server-fault", logger: logger)
    }

    static func admin() async throws -> AdminConnection {
        try await AdminConnection.connect(to: server(), runID: RunID(), logger: logger)
    }

    /// Runs `body` with an empty test database of its own, released and shut down afterwards
    /// (also when `body` throws) — for tests that write and must not write to `postgres`.
    static func withDatabase(_ testName: String, _ body: (PostgresTestDatabase) async throws -> Void) async throws {
        let manager = TestDatabaseManager(prefix: uniquePrefix(), logger: logger)
        do {
            try await manager.withTestDatabase(testName: testName, body)
        } catch {
            await manager.shutdown()
            throw error
        }
        await manager.shutdown()
    }

    /// Runs `body` with the connection string of a new login role (`CREATE ROLE … <options>`),
    /// dropped afterwards.
    static func withRole(_ options: String, _ body: (String, ConnectionString) async throws -> Void) async throws {
        let superuser = try await connect()
        let role = uniquePrefix("role_")
        try await superuser.execute("CREATE ROLE \(role) LOGIN \(options)")
        var parameters = try await server().parameters()
        parameters["user"] = role
        do {
            try await body(role, .keywordForm(parameters))
        } catch {
            _ = try? await superuser.execute("DROP ROLE \(role)")
            throw error
        }
        try await superuser.execute("DROP ROLE \(role)")
        await superuser.close()
    }

    /// A unique prefix per test, so tests never see each other's templates.
    static func uniquePrefix(_ base: String = "t") -> String {
        base + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let repositoryRoot = fixtures.deletingLastPathComponent()

    /// The `pgtestkit` executable of this build.
    static let cli = repositoryRoot.appendingPathComponent(".build/debug/pgtestkit").path
}
