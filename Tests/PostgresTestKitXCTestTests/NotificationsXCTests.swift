import NotificationsFixture
import PostgresTestKit
import PostgresTestKitXCTest
import XCTest

extension TestDatabaseManager {
    static let notificationsXCTest = TestDatabaseManager(
        migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
        seeders: [NotificationTypeSync()],
        connectHooks: [.sql("SET TIME ZONE 'UTC'")]
    )
}

final class NotificationsXCTests: XCTestCase {
    var db: PostgresTestDatabase!

    override func setUp() async throws {
        db = try await TestDatabaseManager.notificationsXCTest.acquire(for: self)   // drop registered as teardown
    }

    func testPlacesASubscription() async throws {
        try await db.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "bo@example.com", "Bo")
        let count = try await db.scalar("SELECT count(*) FROM customers", as: Int.self)
        XCTAssertEqual(count, 1)
    }

    func testSeesTheSeededCatalog() async throws {
        let count = try await db.scalar("SELECT count(*) FROM notification_types WHERE is_active", as: Int.self)
        XCTAssertEqual(count, 4)
    }

    func testDatabaseCarriesTheTestName() {
        XCTAssertEqual(db.testName, "testDatabaseCarriesTheTestName")
        if !db.fromPool {   // pooled clones keep their pool name; the marker carries the test
            XCTAssertTrue(db.name.hasSuffix("_testdatabasecarriesthetestname"), db.name)
        }
    }

    func testStartsEmpty() async throws {
        let count = try await db.scalar("SELECT count(*) FROM customers", as: Int.self)
        XCTAssertEqual(count, 0)
    }
}
