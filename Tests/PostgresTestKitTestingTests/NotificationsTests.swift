import Foundation
import NotificationsFixture
import PostgresTestKit
import PostgresTestKitTesting
import Testing

// Written exactly as a user would: the README shows this code.
extension TestDatabaseManager {
    static let notifications = TestDatabaseManager(
        migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
        seeders: [NotificationTypeSync()],               // run after migrations, never before
        connectHooks: [.sql("SET TIME ZONE 'UTC'")]      // session setup only; writes are flagged
    )
}

@Suite(.testDatabase(.notifications))
struct NotificationsTests {
    @Test func subscribesACustomer() async throws {
        let db = try #require(PostgresTestDatabase.current)      // a fresh clone for this test
        try await db.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "ann@example.com", "Ann")
        try await db.execute("""
            INSERT INTO customer_notification_types (customer_id, notification_type_id)
            SELECT c.id, t.id FROM customers c, notification_types t WHERE t.name = $1
            """, "order_shipped")
        #expect(try await db.scalar("SELECT count(*) FROM customer_notification_types", as: Int.self) == 1)
    }

    @Test func startsWithTheSeededCatalog() async throws {
        let db = try #require(PostgresTestDatabase.current)
        #expect(try await db.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self) == 4)
        #expect(try await db.scalar("SELECT current_setting('TimeZone')", as: String.self) == "UTC")
    }

    @Test(arguments: 0..<40)
    func eachTestSeesOnlyItsOwnRows(n: Int) async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "c\(n)@example.com", "Customer \(n)")
        let emails = try await db.execute("SELECT email FROM customers").rows.map { $0[0] }
        #expect(emails == ["c\(n)@example.com"])
        #expect(db.testName?.hasPrefix("eachTestSeesOnlyItsOwnRows") == true)
        #expect(db.fromPool || db.name.contains("_eachtestseesonlyitsownrows"))   // pooled clones keep their pool name
    }

    @Test(arguments: ["order_shipped", "payment_failed", "weekly_digest", "password_changed", "no_such_type"])
    func eachCaseGetsItsOwnDatabase(type: String) async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("UPDATE notification_types SET is_active = false WHERE name = $1", type)
        let active = try await db.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self)
        #expect(active == (type == "no_such_type" ? 4 : 3))   // no case sees another case's update
    }
}

@Suite struct TraitOnASingleTest {
    @Test(.testDatabase(.notifications)) func worksOnOneTest() async throws {
        let db = try #require(PostgresTestDatabase.current)
        #expect(db.phases.current == .ready)
    }

    @Test func noDatabaseOutsideTheTrait() {
        #expect(PostgresTestDatabase.current == nil)
    }
}
