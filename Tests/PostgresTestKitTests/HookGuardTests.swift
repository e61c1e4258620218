import Testing
@testable import PostgresTestKit

/// The hook guard's transaction: a hook that ends, replaces or upgrades it is flagged under
/// `.fail` and `.warn`; session set-up stays silent; both policies judge temporary tables and
/// `FOR UPDATE` alike.
/// Serialized: every case makes a manager of its own; at once they would fill `max_connections`.
@Suite("Hook guard: no way out", .serialized)
struct HookGuardTests {
    static func manager(_ hook: ConnectHook, _ policy: AuditPolicy) -> TestDatabaseManager {
        TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: AuditTests.schema, connectHooks: [hook],
                            audit: policy, poolSize: 0, logger: TestSupport.logger)
    }

    /// A hook that runs `sql` only once the schema exists, i.e. on clone connections.
    static func cloneHook(_ sql: String, fileID: String = #fileID, line: Int = #line) -> ConnectHook {
        .closure("hook: \(sql)", fileID: fileID, line: line) { connection in
            guard try await connection.scalar("SELECT to_regclass('notes') IS NOT NULL", as: Bool.self) else { return }
            try await connection.simpleQuery(sql)
        }
    }

    /// Acquires a clone under `policy`: under `.fail` a violation fails the acquire, under
    /// `.warn` the clone is handed out. Returns the clone (warn) and the manager's violations.
    static func acquire(_ manager: TestDatabaseManager, _ policy: AuditPolicy, expectFailure: Bool) async throws -> PostgresTestDatabase? {
        if policy == .fail && expectFailure {
            let error = await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "hookGuard") }
            #expect(error?.code == .lifecycleViolation)
            return nil
        }
        return try await manager.acquire(testName: "hookGuard")
    }

    @Test func underWarnACommitThenAnInsertIsFlaggedAsAnEscapeWithTheHooksLine() async throws {
        let line = #line + 1
        let hook = Self.cloneHook("COMMIT; INSERT INTO notes (body) VALUES ('escaped')", line: line)
        let manager = Self.manager(hook, .warn)
        let db = try #require(try await Self.acquire(manager, .warn, expectFailure: true))
        let escape = try #require(manager.violations.first { $0.kind == .hookEscapedGuard })
        #expect(escape.kind.rawValue == "hook_escaped_guard")
        #expect(escape.phase == .connecting)
        #expect(escape.source == RegistrationSite(fileID: "PostgresTestKitTests/HookGuardTests.swift", line: line))
        #expect(escape.note?.contains("ended the guard's transaction") == true)
        #expect(try await db.scalar("SELECT count(*) FROM notes", as: Int.self) == 2)   // warn: the write went through
        try await db.release()
        await manager.shutdown()
    }

    @Test func underFailABeginReadWriteInsertCommitIsRefusedAndFlagged() async throws {
        let line = #line + 1
        let hook = Self.cloneHook("BEGIN READ WRITE; INSERT INTO notes (body) VALUES ('escaped'); COMMIT", line: line)
        let manager = Self.manager(hook, .fail)
        _ = try await Self.acquire(manager, .fail, expectFailure: true)
        let escape = try #require(manager.violations.first)
        #expect(escape.kind == .hookEscapedGuard)
        #expect(escape.sqlState == "25001")
        #expect(escape.source == RegistrationSite(fileID: "PostgresTestKitTests/HookGuardTests.swift", line: line))
        await manager.shutdown()
    }

    /// Each way out, under both policies: ended, replaced, upgraded.
    @Test(arguments: [AuditPolicy.fail, .warn], [
        "COMMIT; INSERT INTO notes (body) VALUES ('ended')",
        "COMMIT; BEGIN READ WRITE; INSERT INTO notes (body) VALUES ('replaced')",
        "ROLLBACK; BEGIN; SELECT 1",
        "COMMIT",
        "END; SET TIME ZONE 'UTC'",
        "SET TRANSACTION READ WRITE; INSERT INTO notes (body) VALUES ('upgraded')",
        "BEGIN READ WRITE; INSERT INTO notes (body) VALUES ('upgraded'); COMMIT",
    ])
    func everyWayOutOfTheGuardsTransactionIsFlagged(policy: AuditPolicy, sql: String) async throws {
        let line = #line + 1
        let manager = Self.manager(Self.cloneHook(sql, line: line), policy)
        let db = try await Self.acquire(manager, policy, expectFailure: true)
        let kinds = manager.violations.map(\.kind)
        // Under warn the guard's transaction is read-write: `SET TRANSACTION READ WRITE` and a
        // nested `BEGIN` change nothing, and the hook's INSERT inside it is a write.
        let upgrade = sql.hasPrefix("SET TRANSACTION") || sql.hasPrefix("BEGIN")
        if policy == .warn && upgrade {
            #expect(kinds.contains(.writeInConnectHook) || kinds.contains(.hookEscapedGuard), "\(kinds)")
        } else {
            #expect(kinds.first == .hookEscapedGuard, "\(kinds)")
        }
        #expect(manager.violations.allSatisfy { $0.source?.line == line })
        try await db?.release()
        await manager.shutdown()
    }

    /// The clean twins: session set-up, reads, SET LOCAL and savepoints stay silent under both
    /// policies, and the session settings the hook made are still in force.
    @Test(arguments: [AuditPolicy.fail, .warn], [
        "SET TIME ZONE 'Asia/Tokyo'",
        "SET TIME ZONE 'Asia/Tokyo'; SELECT count(*) FROM notes",
        "SET TIME ZONE 'Asia/Tokyo'; SET LOCAL statement_timeout = '5s'",
        "SET TIME ZONE 'Asia/Tokyo'; SAVEPOINT s; SELECT 1; RELEASE SAVEPOINT s",
        "SET TIME ZONE 'Asia/Tokyo'; SAVEPOINT s; SELECT 1; ROLLBACK TO SAVEPOINT s",
    ])
    func sessionSetUpInAHookStaysSilent(policy: AuditPolicy, sql: String) async throws {
        let manager = Self.manager(.sql(sql.hasSuffix("'Asia/Tokyo'") ? sql : "SET TIME ZONE 'Asia/Tokyo'"), policy)
        let twin = Self.manager(Self.cloneHook(sql), policy)
        for manager in [manager, twin] {
            let db = try await manager.acquire(testName: "clean")
            #expect(manager.violations.isEmpty, "\(manager.violations)")
            #expect(try await db.scalar("SHOW TimeZone", as: String.self) == "Asia/Tokyo")
            #expect(try await db.scalar("SELECT current_setting('transaction_read_only')", as: String.self) == "off")
            try await db.execute("INSERT INTO notes (body) VALUES ('the test may write')")
            try await db.release()
            await manager.shutdown()
        }
    }

    /// The decision both policies share: a temporary table and `SELECT … FOR UPDATE` in a hook
    /// are flagged (a catalog write; row locks), even a `FOR UPDATE` that locks no row.
    @Test(arguments: [AuditPolicy.fail, .warn], [
        "CREATE TEMP TABLE hook_scratch (x int)",
        "CREATE TEMP TABLE hook_scratch (x int) ON COMMIT DROP",
        "SELECT * FROM notes FOR UPDATE",
        "SELECT * FROM notes WHERE false FOR SHARE",
        "UPDATE notes SET body = 'no row' WHERE false",
    ])
    func temporaryTablesAndForUpdateAreFlaggedUnderBothPolicies(policy: AuditPolicy, sql: String) async throws {
        let line = #line + 1
        let manager = Self.manager(Self.cloneHook(sql, line: line), policy)
        let db = try await Self.acquire(manager, policy, expectFailure: true)
        let violation = try #require(manager.violations.first)
        #expect(violation.kind == .writeInConnectHook)
        #expect(violation.source?.line == line)
        if policy == .fail { #expect(violation.sqlState == "25006") }
        try await db?.release()
        await manager.shutdown()
    }
}
