import PostgresTestKit
import PostgresTestKitTesting
import Testing
import VaporNotifications
import VaporTesting

/// `GET /notification-types` against each test's own database, tests running in parallel:
/// one test deactivating a type never shows in another.
@Suite(.testDatabase(.vaporNotifications))
struct NotificationTypeRouteTests {
    static let names = NotificationCatalog.standard.kinds.map(\.name).sorted()

    @Test func listsTheSeededTypes() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(res.status == .ok)
                let types = try res.content.decode([NotificationTypeDTO].self)
                #expect(types.map(\.name) == Self.names)
                #expect(types.first { $0.name == "order_shipped" }?.description == "Your order is on its way")
            }
        }
    }

    @Test func leavesOutDeactivatedTypes() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("UPDATE notification_types SET is_active = false WHERE name = $1", "weekly_digest")
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.GET, "notification-types") { res async throws in
                let names = try res.content.decode([NotificationTypeDTO].self).map(\.name)
                #expect(names == Self.names.filter { $0 != "weekly_digest" })
            }
        }
    }

    @Test func resyncingFollowsTheCatalog() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let shorter = NotificationCatalog(kinds: NotificationCatalog.standard.kinds.filter { $0.name != "payment_failed" })
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await syncNotificationTypes(on: app.db, catalog: shorter)
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(try res.content.decode([NotificationTypeDTO].self).map(\.name) == Self.names.filter { $0 != "payment_failed" })
            }
            try await syncNotificationTypes(on: app.db, catalog: .standard)
            try await syncNotificationTypes(on: app.db, catalog: .standard)   // idempotent
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(try res.content.decode([NotificationTypeDTO].self).map(\.name) == Self.names)
            }
        }
        #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == Self.names.count)
    }
}
