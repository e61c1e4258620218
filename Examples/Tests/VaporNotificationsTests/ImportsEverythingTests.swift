import Fluent
import FluentPostgresDriver
import Foundation
import PostgresTestKit
import PostgresTestKitTesting
import Testing
import Vapor
import VaporNotifications
import VaporTesting
import XCTFluent
import XCTVapor

/// Everything a Vapor + Fluent user imports, in one file, with the toolkit's types unqualified:
/// `PostgresTestDatabase` beside XCTFluent's `TestDatabase` and PostgresNIO's
/// `PostgresDatabase`, `SchemaMigrations` beside Fluent's `Migrations`, `PGError` beside
/// Fluent's `DatabaseError` and PostgresNIO's `PSQLError`. That this file compiles is the test.
@Suite(.testDatabase(.vaporNotifications))
struct ImportsEverythingTests {
    /// A migrations value written here: the toolkit's `SchemaMigrations` taking a
    /// `PreparationContext`, running Fluent's `Migrations` inside.
    static let schema: SchemaMigrations = .closure { (context: PreparationContext) in
        try await withNotificationsApp(on: context.connectionDetails) { app in
            let migrations: Migrations = app.migrations
            migrations.add(CreateCustomer())
            try await app.autoMigrate()
        }
    }

    @Test func toolkitTypesNeedNoQualification() async throws {
        let db: PostgresTestDatabase = try #require(PostgresTestDatabase.current)
        let manager: TestDatabaseManager = .vaporNotifications
        #expect(manager.prefix.isEmpty == false)
        let error = await #expect(throws: PGError.self) {
            try await db.execute("SELECT * FROM no_such_table")
        }
        #expect(error?.sqlState == "42P01")

        try await withNotificationsApp(on: db.connectionDetails) { app in
            let database: any Database = app.db
            #expect(try await NotificationType.query(on: database).count() == NotificationCatalog.standard.kinds.count)
            do {
                try await Customer(email: "x@example.com", name: "X").create(on: database)
                try await Customer(email: "x@example.com", name: "X again").create(on: database)
                Issue.record("the unique email was not enforced")
            } catch let error as any DatabaseError {
                #expect(error.isConstraintFailure)   // Fluent's error protocol, beside PGError
            }
        }
    }

    /// XCTFluent's `TestDatabase` returns canned rows and runs no SQL, so the route's
    /// `is_active` filter never runs; the `PostgresTestDatabase` runs it.
    @Test func xctFluentFakeBesideARealDatabase() async throws {
        let fake = ArrayTestDatabase()
        fake.append([NotificationType(id: UUID(), name: "retired", summary: "No longer sent", isActive: false)])
        try await withApp(configure: { app in
            try await configure(app, database: DatabaseConfigurationFactory { fake.configuration })
        }) { app in
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(try res.content.decode([NotificationTypeDTO].self).map(\.name) == ["retired"])
            }
        }

        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("UPDATE notification_types SET is_active = false WHERE name <> 'order_shipped'")
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(try res.content.decode([NotificationTypeDTO].self).map(\.name) == ["order_shipped"])
            }
        }
    }
}
