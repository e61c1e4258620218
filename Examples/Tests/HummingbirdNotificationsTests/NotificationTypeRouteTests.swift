import HummingbirdNotifications
import HummingbirdTesting
import PostgresTestKit
import PostgresTestKitTesting
import Testing

/// `GET /notification-types` against each test's own database, tests running in parallel:
/// one test deactivating a type never shows in another.
@Suite(.testDatabase(.hummingbirdNotifications))
struct NotificationTypeRouteTests {
    static let names = NotificationCatalog.standard.kinds.map(\.name).sorted()

    @Test func listsTheSeededTypes() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            try await client.execute(uri: "/notification-types", method: .get) { response async throws in
                #expect(response.status == .ok)
                let types = try response.decode([NotificationType].self)
                #expect(types.map(\.name) == Self.names)
                #expect(types.contains(NotificationType(name: "order_shipped", description: "Your order is on its way")))
            }
        }
    }

    @Test func leavesOutDeactivatedTypes() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("UPDATE notification_types SET is_active = false WHERE name = $1", "weekly_digest")
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            try await client.execute(uri: "/notification-types", method: .get) { response async throws in
                #expect(try response.decode([NotificationType].self).map(\.name) == Self.names.filter { $0 != "weekly_digest" })
            }
        }
    }

    @Test func resyncingFollowsTheCatalog() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let shorter = NotificationCatalog(kinds: NotificationCatalog.standard.kinds.filter { $0.name != "payment_failed" })
        try await withPostgresClient(db.connectionDetails) { client in
            let repository = NotificationTypeRepository(client: client, logger: .tests)
            try await repository.sync(shorter)
            #expect(try await repository.active().map(\.name) == Self.names.filter { $0 != "payment_failed" })
            try await repository.sync(.standard)
            try await repository.sync(.standard)   // idempotent
            #expect(try await repository.active().map(\.name) == Self.names)
        }
        #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == Self.names.count)
    }
}
