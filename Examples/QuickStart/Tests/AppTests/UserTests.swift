import PostgresTestKit
import PostgresTestKitTesting
import Testing

@Suite(.testDatabase(.app))
struct UserTests {
    @Test func signsUpAUser() async throws {
        let db = try #require(PostgresTestDatabase.current)   // this test's own database
        try await db.execute("INSERT INTO users (email, plan) VALUES ($1, $2)", "ann@example.com", "free")
        #expect(try await db.scalar("SELECT count(*) FROM users", as: Int.self) == 2)
        // Give your app's client db.url (libpq, psql) or db.connectionDetails (PostgresNIO).
    }

    @Test func startsFromTheSeededTemplate() async throws {
        let db = try #require(PostgresTestDatabase.current)   // the other test's user is not here
        #expect(try await db.scalar("SELECT count(*) FROM users", as: Int.self) == 1)
        #expect(try await db.scalar("SELECT name FROM plans WHERE id = 'pro'", as: String.self) == "Pro")
    }
}
