import Hummingbird
import HummingbirdNotifications
import HummingbirdTesting
import PostgresTestKit
import PostgresTestKitXCTest
import XCTest

/// The same routes from XCTest: `acquire(for: self)` in `setUp` gives every test its own
/// database and registers its drop as a teardown block.
final class NotificationRoutesXCTests: XCTestCase {
    var db: PostgresTestDatabase!

    override func setUp() async throws {
        db = try await TestDatabaseManager.hummingbirdNotifications.acquire(for: self)
    }

    func testListsTheSeededTypes() async throws {
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            try await client.execute(uri: "/notification-types", method: .get) { response async throws in
                XCTAssertEqual(response.status, .ok)
                let names = try response.decode([NotificationType].self).map(\.name)
                XCTAssertEqual(names, NotificationCatalog.standard.kinds.map(\.name).sorted())
            }
        }
    }

    func testCreatesACustomer() async throws {
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            let body = try ByteBuffer.json(CreateCustomerRequest(email: "fay@example.com", name: "Fay"))
            try await client.execute(uri: "/customers", method: .post, body: body) { response async throws in
                XCTAssertEqual(response.status, .created)
                XCTAssertEqual(try response.decode(Customer.self).email, "fay@example.com")
            }
        }
        let count = try await db.scalar("SELECT count(*) FROM customers", as: Int.self)
        XCTAssertEqual(count, 1)
    }

    func testStartsWithoutCustomers() async throws {
        let count = try await db.scalar("SELECT count(*) FROM customers", as: Int.self)
        XCTAssertEqual(count, 0)
    }
}
