import PostgresTestKit
import PostgresTestKitXCTest
import XCTest

/// `acquire(for:)` gives the timeline the test method's name and its class as the suite.
final class TimelineRowXCTests: XCTestCase {
    func testTheRowCarriesTheMethodAndItsClass() async throws {
        let db = try await TestDatabaseManager.notificationsXCTest.acquire(for: self)
        let row = try XCTUnwrap(RunReport.shared.snapshot.timeline.rows.last { $0.database == db.name })
        XCTAssertEqual(row.test, "testTheRowCarriesTheMethodAndItsClass")
        XCTAssertEqual(row.suite, "TimelineRowXCTests")
    }
}
