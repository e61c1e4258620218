import PostgresTestKit
import Testing

@Test func aDatabaseForAnyBlockOfCode() async throws {
    let plans = try await TestDatabaseManager.app.withTestDatabase(testName: "scoped") { db in
        try await db.scalar("SELECT count(*) FROM plans", as: Int.self)
    }
    #expect(plans == 2)
}
