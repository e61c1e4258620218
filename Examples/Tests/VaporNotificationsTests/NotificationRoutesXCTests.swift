import PostgresTestKit
import PostgresTestKitXCTest
import VaporNotifications
import XCTVapor

/// The same routes from XCTest, with XCTVapor: `acquire(for: self)` in `setUp` gives every
/// test its own database and registers its drop as a teardown block.
final class NotificationRoutesXCTests: XCTestCase {
    var db: PostgresTestDatabase!

    override func setUp() async throws {
        db = try await TestDatabaseManager.vaporNotifications.acquire(for: self)
    }

    func testListsTheSeededTypes() async throws {
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testable().test(.GET, "notification-types") { res async throws in
                XCTAssertEqual(res.status, .ok)
                let names = try res.content.decode([NotificationTypeDTO].self).map(\.name)
                XCTAssertEqual(names, NotificationCatalog.standard.kinds.map(\.name).sorted())
            }
        }
    }

    func testCreatesACustomer() async throws {
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testable().test(.POST, "customers", beforeRequest: { req in
                try req.content.encode(CreateCustomerRequest(email: "fay@example.com", name: "Fay"))
            }, afterResponse: { res async throws in
                XCTAssertEqual(res.status, .created)
                XCTAssertEqual(try res.content.decode(CustomerDTO.self).email, "fay@example.com")
            })
        }
        let count = try await db.scalar("SELECT count(*) FROM customers", as: Int.self)
        XCTAssertEqual(count, 1)
    }

    func testStartsWithoutCustomers() async throws {
        let count = try await db.scalar("SELECT count(*) FROM customers", as: Int.self)
        XCTAssertEqual(count, 0)
    }
}
