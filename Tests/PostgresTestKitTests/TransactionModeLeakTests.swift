import Foundation
import Testing
@testable import PostgresTestKit

/// Transaction mode cannot leak: a test that ends its sandbox's outer transaction anyway fails
/// at that statement, is reported, and the shared clone it committed to is replaced.
/// Serialized: every case makes a manager of its own; at once they would fill `max_connections`.
@Suite("Transaction mode: no leak into the shared clone", .serialized)
struct TransactionModeLeakTests {
    static let schema = SchemaMigrations.closure(fingerprint: "sandbox-leak-1") { context in
        try await context.connection.simpleQuery("CREATE TABLE items (label text)")
    }

    static func manager(_ policy: AuditPolicy = .fail) -> TestDatabaseManager {
        TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: schema, audit: policy, poolSize: 0, logger: TestSupport.logger)
    }

    /// Sends `sql` as the test would: one statement by the extended protocol, several by the
    /// simple-query protocol.
    static func send(_ sql: String, to db: PostgresTestDatabase) async throws {
        if sql.contains(";") { try await db.simpleQuery(sql) } else { try await db.execute(sql) }
    }

    /// Waits (bounded) until the manager no longer owns a database of that name.
    static func dropped(_ name: String, prefix: String) async throws -> Bool {
        let admin = try await TestSupport.admin()
        var gone = false
        for _ in 0..<100 where !gone {
            gone = try await !admin.ownedDatabases(prefix: prefix).contains(where: { $0.name == name })
            if !gone { try await Task.sleep(for: .milliseconds(50)) }
        }
        await admin.close()
        return gone
    }

    @Test(arguments: [
        "INSERT INTO items VALUES ('a'); COMMIT; INSERT INTO items VALUES ('b')",
        "COMMIT AND CHAIN",
        "INSERT INTO items VALUES ('a'); COMMIT AND CHAIN",
        "ROLLBACK AND CHAIN",
        "PREPARE TRANSACTION 'pgtestkit_leak'",
        "INSERT INTO items VALUES ('a'); END",
        "SELECT 1; ROLLBACK",
        "BEGIN; INSERT INTO items VALUES ('a'); COMMIT",
    ])
    func aTestThatEndsTheOuterTransactionFailsAndTheSharedCloneIsReplaced(sql: String) async throws {
        let manager = Self.manager()
        let db = try await manager.acquire(testName: "leak", isolation: .transaction)
        let shared = db.name
        try await db.execute("INSERT INTO items VALUES ('before')")
        let error = await #expect(throws: TestKitError.self) { try await Self.send(sql, to: db) }
        #expect(error?.code == .lifecycleViolation)
        #expect(error?.message.contains("broke out of the transaction sandbox") == true)
        #expect(error?.message.contains("isolation .database") == true)
        // The connection refuses more: nothing else lands in the shared clone.
        let refused = await #expect(throws: TestKitError.self) { try await db.execute("INSERT INTO items VALUES ('after')") }
        #expect(refused?.code == .lifecycleViolation)
        try await db.release()

        let violation = try #require(manager.violations.first)
        #expect(manager.violations.count == 1)
        #expect(violation.kind == .transactionSandboxEscaped)
        #expect(violation.kind.rawValue == "transaction_sandbox_escaped")
        #expect(violation.database == shared)
        #expect(violation.note?.contains("test leak") == true)

        let next = try await manager.acquire(testName: "next", isolation: .transaction)
        #expect(next.name != shared)
        #expect(try await next.scalar("SELECT count(*) FROM items", as: Int.self) == 0)
        try await next.release()
        #expect(next.phases.current == .rolledBack, "a transaction-mode test ends rolled back; its shared database lives on")
        #expect(try await Self.dropped(shared, prefix: manager.prefix))
        await manager.shutdown()
    }

    @Test(arguments: [AuditPolicy.warn, .off])
    func theEscapeFailsTheTestUnderEveryPolicy(policy: AuditPolicy) async throws {
        let manager = Self.manager(policy)
        let db = try await manager.acquire(testName: "leak", isolation: .transaction)
        let shared = db.name
        await #expect(throws: TestKitError.self) { try await db.simpleQuery("INSERT INTO items VALUES ('a'); COMMIT") }
        try await db.release()
        #expect(manager.violations.map(\.kind) == (policy == .off ? [] : [.transactionSandboxEscaped]))
        let next = try await manager.acquire(testName: "next", isolation: .transaction)
        #expect(next.name != shared)
        try await next.release()
        await manager.shutdown()
    }

    /// The clean twin: statements, the test's own savepoints, and BEGIN/COMMIT/ROLLBACK
    /// rewritten into savepoints leave no trace, and the next test gets the same shared clone.
    @Test func aTestThatStaysInsideKeepsTheSharedClone() async throws {
        let manager = Self.manager()
        let db = try await manager.acquire(testName: "clean", isolation: .transaction)
        let shared = db.name
        try await db.simpleQuery("INSERT INTO items VALUES ('a'); INSERT INTO items VALUES ('b'); SELECT 1")
        try await db.execute("SAVEPOINT mine")
        try await db.execute("INSERT INTO items VALUES ('undone')")
        try await db.execute("ROLLBACK TO SAVEPOINT mine")
        try await db.execute("RELEASE SAVEPOINT mine")
        try await db.execute("BEGIN")
        try await db.execute("INSERT INTO items VALUES ('kept')")
        try await db.execute("COMMIT")
        try await db.execute("START TRANSACTION")
        try await db.execute("INSERT INTO items VALUES ('rolled back')")
        try await db.execute("ROLLBACK")
        try await db.execute("END")            // no open user transaction: a no-op
        #expect(try await db.scalar("SELECT count(*) FROM items", as: Int.self) == 3)
        try await db.release()
        #expect(manager.violations.isEmpty)

        let next = try await manager.acquire(testName: "next", isolation: .transaction)
        #expect(next.name == shared)
        #expect(try await next.scalar("SELECT count(*) FROM items", as: Int.self) == 0)
        try await next.release()
        await manager.shutdown()
    }

    /// A test still running on the clone when another one leaks finishes there; the clone is
    /// dropped after it, and new tests get a new clone.
    @Test func aTestStillOnTheRetiredCloneFinishesThere() async throws {
        let manager = Self.manager()
        let running = try await manager.acquire(testName: "running", isolation: .transaction)
        let leaking = try await manager.acquire(testName: "leaking", isolation: .transaction)
        let shared = running.name
        #expect(leaking.name == shared)
        await #expect(throws: TestKitError.self) { try await leaking.execute("COMMIT AND CHAIN") }
        try await leaking.release()

        let fresh = try await manager.acquire(testName: "fresh", isolation: .transaction)
        #expect(fresh.name != shared)
        try await running.execute("INSERT INTO items VALUES ('still here')")
        #expect(try await running.scalar("SELECT count(*) FROM items", as: Int.self) == 1)
        try await running.release()
        #expect(try await Self.dropped(shared, prefix: manager.prefix))
        try await fresh.release()

        let again = try await manager.acquire(testName: "again", isolation: .transaction)
        #expect(again.name == fresh.name)   // the replacement is shared from now on
        try await again.release()
        await manager.shutdown()
    }
}
