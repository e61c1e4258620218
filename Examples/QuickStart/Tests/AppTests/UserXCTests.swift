import PostgresTestKit
import PostgresTestKitXCTest
import XCTest

final class UserXCTests: XCTestCase {
    var db: PostgresTestDatabase!

    override func setUp() async throws {
        db = try await TestDatabaseManager.app.acquire(for: self)   // released after the test
    }

    func testTheAdminIsSeeded() async throws {
        let email = try await db.scalar("SELECT email FROM users", as: String.self)
        XCTAssertEqual(email, "admin@example.com")
    }
}
