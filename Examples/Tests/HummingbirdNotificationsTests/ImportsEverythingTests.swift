import Foundation
import Hummingbird
import HummingbirdNotifications
import HummingbirdTesting
import PostgresNIO
import PostgresTestKit
import PostgresTestKitTesting
import Testing

/// Everything a Hummingbird + PostgresNIO user imports, in one file, with the toolkit's types
/// unqualified: `PostgresTestDatabase` beside PostgresNIO's `PostgresDatabase`,
/// `PGError` beside `PSQLError`, `SchemaMigrations` and `PreparationContext` beside the app's
/// `Migrator`, Hummingbird's `Application`, `Router` and `Environment`. That this file compiles
/// is the test.
@Suite(.testDatabase(.hummingbirdNotifications))
struct ImportsEverythingTests {
    /// A migrations value written here: the toolkit's `SchemaMigrations` taking a
    /// `PreparationContext`, running the app's `Migrator` inside.
    static let schema: SchemaMigrations = .closure { (context: PreparationContext) in
        try await withPostgresClient(context.connectionDetails) { client in
            let migrator: Migrator = NotificationMigrations.migrator
            _ = try await migrator.migrate(on: client, logger: .tests)
        }
    }

    @Test func toolkitTypesNeedNoQualification() async throws {
        let db: PostgresTestDatabase = try #require(PostgresTestDatabase.current)
        let manager: TestDatabaseManager = .hummingbirdNotifications
        #expect(manager.prefix.isEmpty == false)

        // The same server error, through the toolkit's connection and through PostgresNIO's.
        let toolkitError = await #expect(throws: PGError.self) {
            try await db.execute("SELECT * FROM no_such_table")
        }
        #expect(toolkitError?.sqlState == "42P01")
        let nioError = try await withPostgresClient(db.connectionDetails) { client in
            await #expect(throws: PSQLError.self) {
                try await client.query("SELECT * FROM no_such_table")
            }
        }
        #expect(nioError?.serverInfo?[.sqlState] == "42P01")

        // Hummingbird's own names beside ours.
        let environment = Environment(values: ["APP_NAME": "notifications"])
        let router = Router()
        router.get("/database") { _, _ in db.name }
        let app = Application(router: router, configuration: .init(serverName: environment.get("APP_NAME")))
        try await app.test(.router) { client in
            try await client.execute(uri: "/database", method: .get) { response async throws in
                #expect(response.text == db.name)
            }
        }
    }
}
