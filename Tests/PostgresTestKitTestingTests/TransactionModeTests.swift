import NotificationsFixture
import PostgresTestKit
import PostgresTestKitTesting
import Testing

extension TestDatabaseManager {
    static let notificationsTransactions = TestDatabaseManager(
        migrations: .sqlDirectory(NotificationsFixture.migrationsDirectory),
        seeders: [NotificationTypeSync()]
    )
}

/// Transaction mode: every test writes the same unique email; each sees only its own row,
/// because every test's transaction is rolled back.
@Suite(.testDatabase(.notificationsTransactions, isolation: .transaction), .serialized)
struct TransactionModeTests {
    @Test(arguments: 1...5)
    func leavesNoRowsBehind(n: Int) async throws {
        let db = try #require(PostgresTestDatabase.current)
        #expect(db.isolation == .transaction)
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
        try await db.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "same@example.com", "Run \(n)")
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 1)
    }

    @Test func theTestsOwnTransactionsBecomeSavepoints() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("BEGIN")
        try await db.execute("INSERT INTO customers (email, name) VALUES ('kept@example.com', 'Kept')")
        try await db.execute("COMMIT")        // a savepoint release: still inside the test's transaction
        try await db.execute("BEGIN")
        try await db.execute("INSERT INTO customers (email, name) VALUES ('undone@example.com', 'Undone')")
        try await db.execute("ROLLBACK")      // back to the savepoint
        let emails = try await db.execute("SELECT email FROM customers ORDER BY email").rows.map { $0[0] }
        #expect(emails == ["kept@example.com"])
        try await db.execute("COMMIT")        // no open user transaction: a no-op, never the outer commit
    }

    @Test func seesTheSeededCatalog() async throws {
        let db = try #require(PostgresTestDatabase.current)
        #expect(try await db.scalar("SELECT count(*) FROM notification_types", as: Int.self) == 4)
    }
}
