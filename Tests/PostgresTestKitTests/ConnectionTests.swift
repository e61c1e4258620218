import Foundation
import Testing
@testable import PostgresTestKit

@Suite("Connection (real libpq, real server)")
struct ConnectionTests {
    @Test func connectsAndRunsAStatement() async throws {
        let connection = try await TestSupport.connect()
        #expect(try await connection.scalar("SELECT 1 + 1", as: Int.self) == 2)
        #expect(await connection.serverVersion >= 130000)
        #expect(await connection.database == "postgres")
    }

    @Test func roundTripsParameters() async throws {
        let c = try await TestSupport.connect()
        #expect(try await c.scalar("SELECT $1::text", "héllo ✓ 日本", as: String.self) == "héllo ✓ 日本")
        let nothing: String? = nil
        #expect(try await c.scalar("SELECT $1::text", nothing, as: String?.self) == nil)
        #expect(try await c.scalar("SELECT $1", Int16.max, as: Int16.self) == Int16.max)
        #expect(try await c.scalar("SELECT $1", Int32.min, as: Int32.self) == Int32.min)
        #expect(try await c.scalar("SELECT $1", Int64.max, as: Int64.self) == Int64.max)
        #expect(try await c.scalar("SELECT $1", -42, as: Int.self) == -42)
        #expect(try await c.scalar("SELECT $1", 3.25, as: Double.self) == 3.25)
        #expect(try await c.scalar("SELECT $1", true, as: Bool.self))
        let bytes: [UInt8] = [0, 1, 2, 0xfe, 0xff, 0x27, 0x5c]
        #expect(try await c.scalar("SELECT $1", bytes, as: [UInt8].self) == bytes)
        #expect(try await c.scalar("SELECT $1", Data(bytes), as: Data.self) == Data(bytes))
        try await c.simpleQuery("SET bytea_output = escape")   // the older text form decodes too
        #expect(try await c.scalar("SELECT $1", bytes, as: [UInt8].self) == bytes)
        try await c.simpleQuery("RESET bytea_output")
        let big = String(repeating: "x", count: 1_048_576)
        #expect(try await c.scalar("SELECT length($1)", big, as: Int.self) == 1_048_576)
        let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let back = try await c.scalar("SELECT $1", date, as: Date.self)
        #expect(abs(back.timeIntervalSince(date)) < 0.000_01)
        let day = try await c.scalar("SELECT DATE '2024-02-29'", as: Date.self)
        #expect(day == Date(timeIntervalSince1970: 1_709_164_800))
        let injection = "'); DROP TABLE x; --"
        #expect(try await c.scalar("SELECT $1::text", injection, as: String.self) == injection)
    }

    @Test func decodesRowsByNameAndIndex() async throws {
        let c = try await TestSupport.connect()
        let result = try await c.execute("SELECT 1 AS a, NULL::text AS b, 'x' AS c FROM generate_series(1, 3)")
        #expect(result.rows.count == 3)
        #expect(result.columns == ["a", "b", "c"])
        #expect(try result.rows[0].decode(Int.self, column: "a") == 1)
        #expect(try result.rows[0].decode(String?.self, at: 1) == nil)
        #expect(throws: PGError.self) { try result.rows[0].decode(String.self, at: 1) }
        #expect(throws: PGError.self) { try result.rows[0].decode(Int.self, column: "c") }
    }

    /// In a test database of its own: a missing column in `postgres` is what the run audit
    /// reports as app code on an admin connection.
    @Test func errorsCarryServerFields() async throws {
        try await TestSupport.withDatabase("errors") { db in
            let c = db.connection
            let error = await #expect(throws: PGError.self) {
                try await c.execute("SELECT no_such_column FROM pg_class")
            }
            #expect(error?.code == .server)
            #expect(error?.sqlState == .undefinedColumn)
            #expect(error?.position == 8)
            #expect(error?.statement == "SELECT no_such_column FROM pg_class")
            #expect(error?.severity == "ERROR")
            // The connection stays usable after an error.
            let seven = try await c.scalar("SELECT 7", as: Int.self)
            #expect(seven == 7)
        }
    }

    @Test func simpleQueryRunsScriptsAndCapturesNotices() async throws {
        // Writes go to a test database, never to the maintenance database.
        try await TestSupport.withDatabase("scripts") { db in
            let c = db.connection
            let result = try await c.simpleQuery("""
                CREATE TEMP TABLE t (n int); INSERT INTO t VALUES (1), (2);
                DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$;
                SELECT sum(n) FROM t
                """)
            #expect(try result.rows[0].decode(Int.self, at: 0) == 3)
            #expect(await c.receivedNotices.contains { $0.message == "hello from plpgsql" })
        }
    }

    @Test func cancellationStopsALongStatementPromptly() async throws {
        let c = try await TestSupport.connect()
        let started = ContinuousClock.now
        let task = Task { try await c.execute("SELECT pg_sleep(10)") }
        // Cancel once the server runs it (a loaded machine may not have sent it after 200 ms;
        // a task cancelled before its statement is sent fails without a SQLSTATE).
        let pid = await c.backendPID
        let watcher = try await TestSupport.connect()
        for _ in 0..<200 {
            let running = try await watcher.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'", Int(pid), as: Int.self)
            if running == 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await watcher.close()
        task.cancel()
        let result = await task.result
        let elapsed = ContinuousClock.now - started
        guard case .failure(let error as PGError) = result else {
            Issue.record("expected a cancellation error, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(error.sqlState == "57014")
        #expect(elapsed < .seconds(5))
        #expect(try await c.scalar("SELECT 1", as: Int.self) == 1)
    }

    @Test func copyNeverHangs() async throws {
        try await TestSupport.withDatabase("copy") { db in
            let c = db.connection
            try await c.execute("CREATE TABLE copied (x int)")
            let out = try await c.execute("COPY (SELECT 1) TO STDOUT")
            #expect(out.commandTag == "COPY 1")
            let error = await #expect(throws: PGError.self) {
                try await c.execute("COPY copied FROM STDIN")
            }
            #expect(error?.message.contains("COPY FROM STDIN is not supported by PostgresTestKit") == true)
            #expect(try await c.scalar("SELECT 3", as: Int.self) == 3)   // still usable
        }
    }

    @Test func quotesIdentifiersAndLiterals() async throws {
        let c = try await TestSupport.connect()
        #expect(try await c.quoteIdentifier("we\"ird; name") == "\"we\"\"ird; name\"")
        #expect(try await c.quoteLiteral("it's") == "'it''s'")
    }

    @Test func unreachableServerFailsFastWithAHint() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: PGError.self) {
            try await Connection.connect(to: ConnectionString("postgresql://app:hunter2-secret@127.0.0.1:1/app"), connectTimeout: 3)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.code == .connectionFailed)
        #expect(error?.hint?.contains("Is the server running") == true)
        #expect(error.map { "\($0)" }?.contains("hunter2-secret") == false)
        #expect(error?.message.contains("app:***@127.0.0.1") == true)
    }

    @Test func closedConnectionSaysSo() async throws {
        let c = try await TestSupport.connect()
        await c.close()
        let error = await #expect(throws: PGError.self) { try await c.execute("SELECT 1") }
        #expect(error?.code == .connectionClosed)
    }

    /// The pool's pop checks its connection without a round trip: a session the server ended
    /// (a terminated backend, as a restart ends them all) is found closed; an idle one that
    /// received only notifications and notices stays open.
    @Test func aSessionTheServerEndedIsFoundClosedWithoutARoundTrip() async throws {
        let victim = try await TestSupport.connect()
        let other = try await TestSupport.connect()
        try await victim.execute("LISTEN pgtk_still_open")
        try await other.execute("NOTIFY pgtk_still_open, 'hello'")
        try await Task.sleep(for: .milliseconds(50))   // the notification reaches the socket
        try await victim.checkStillOpen()   // the clean twin: a pending notification is no end
        try await victim.checkStillOpen()
        let pid = await victim.backendPID
        #expect(try await other.scalar("SELECT pg_terminate_backend($1::int)", Int(pid), as: Bool.self))
        let ended = try await Deadline.poll(for: .seconds(5), every: .milliseconds(10), until: { $0 }) {
            do { try await victim.checkStillOpen(); return false } catch let error as PGError {
                #expect(error.code == .connectionClosed)
                return true
            }
        }
        #expect(ended)
        await other.close()
        await victim.close()
    }
}
