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
        try await ServerConfiguration.fromEnvironment().resolve(logger: logger)
    }

    static func connect(database: String? = nil) async throws -> Connection {
        try await Connection.connect(to: server(), database: database ?? "postgres", logger: logger)
    }

    static func admin() async throws -> AdminConnection {
        try await AdminConnection.connect(to: server(), runID: RunID(), logger: logger)
    }

    /// A unique prefix per test, so tests never see each other's templates.
    static func uniquePrefix(_ base: String = "t") -> String {
        base + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let repositoryRoot = fixtures.deletingLastPathComponent()
}
