import Foundation
import Testing
@testable import PostgresTestKit

/// The WAL witness on a real server: a private embedded server of its own with data checksums
/// on (as PostgreSQL 18 has by default), so that reads leave hint-bit page images in the WAL.
@Suite("WAL witness (pg_walinspect)")
struct WalWitnessTests {
    static let dataDirectory = "/dev/shm/pgtestkit-walwitness-tests-\(getuid())"

    /// The private server, started once per test process, with checksums enabled.
    static let prepared = Task<EmbeddedServer, any Error> {
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_DATA_DIR"] = dataDirectory
        let server = try await EmbeddedServer.locate(environment: environment)
        try await server.start(logger: TestSupport.logger)
        let connection = try await Connection.connect(to: server.connectionString)
        let checksums = try await connection.scalar("SHOW data_checksums", as: String.self)
        await connection.close()
        if checksums != "on" {
            try await server.stop()
            let tool = server.binaries.path("pg_checksums")
            let arguments = ["--enable", "-D", server.dataDirectory]
            let output = if let user = server.serverUser {
                try await Subprocess.run("/usr/sbin/runuser", ["-u", user, "--", tool] + arguments)
            } else {
                try await Subprocess.run(tool, arguments)
            }
            guard output.succeeded else {
                throw TestKitError(.subprocessFailed, "pg_checksums --enable failed: \(output.output)")
            }
            try await server.start(logger: TestSupport.logger)
        }
        return server
    }

    /// Whether the server in use has pg_walinspect (PostgreSQL 15+ with contrib modules).
    static func hasWalinspect(_ server: EmbeddedServer) async throws -> Bool {
        let connection = try await Connection.connect(to: server.connectionString)
        let count = try await connection.scalar("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_walinspect'", as: Int.self)
        await connection.close()
        if count == 0 { print("skipped: PostgreSQL \(server.binaries.majorVersion) in \(server.binaries.directory) has no pg_walinspect") }
        return count > 0
    }

    /// A database of the test's own with a table, a function, a procedure and a sequence that
    /// write; dropped afterwards.
    func withDevDatabase(_ body: (EmbeddedServer, String, UInt32, Connection) async throws -> Void) async throws {
        let server = try await Self.prepared.value
        let name = TestSupport.uniquePrefix("wwdev")
        let setup = try await Connection.connect(to: server.connectionString)
        try await setup.execute("CREATE DATABASE \(name)")
        let oid = UInt32(try await setup.scalar("SELECT oid::text FROM pg_database WHERE datname = $1", name, as: String.self))!
        let dev = try await Connection.connect(to: server.connectionString, database: name)
        try await dev.simpleQuery("""
            CREATE TABLE notes (id serial PRIMARY KEY, body text);
            CREATE SEQUENCE counter;
            CREATE FUNCTION remember(t text) RETURNS void LANGUAGE sql AS $$ INSERT INTO notes (body) VALUES (t) $$;
            CREATE PROCEDURE remember_proc(t text) LANGUAGE sql AS $$ INSERT INTO notes (body) VALUES (t) $$;
            """)
        do {
            try await body(server, name, oid, dev)
        } catch {
            await dev.close()
            _ = try? await setup.execute("DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
        await dev.close()
        try await setup.execute("DROP DATABASE \(name) WITH (FORCE)")
        await setup.close()
    }

    /// Runs `sql` on `connection` between two marks and returns the changes seen.
    func changes(of sql: String, on connection: Connection, witness: WalWitness) async throws -> [UInt32: [WalChange]] {
        let start = try await witness.mark()
        try await connection.simpleQuery(sql)
        let end = try await witness.mark()
        var changes = try await witness.changes(from: start, to: end)
        for (database, found) in changes {
            if let name = try await connection.execute("SELECT datname FROM pg_database WHERE oid = $1::oid", String(database)).rows.first?[0] {
                changes[database] = await witness.resolveNames(of: found, in: name)
            }
        }
        return changes
    }

    @Test(arguments: [
        ("SELECT remember('from a function called by SELECT')", "public.notes"),
        ("DO $$ BEGIN INSERT INTO notes (body) VALUES ('from DO'); END $$", "public.notes"),
        ("CALL remember_proc('from CALL')", "public.notes"),
        ("WITH written AS (INSERT INTO notes (body) VALUES ('from a CTE') RETURNING id) SELECT count(*) FROM written", "public.notes"),
        ("SELECT nextval('counter')", "public.counter"),
        ("DO $$ BEGIN CREATE TABLE made_in_do (x int); END $$", "public.made_in_do"),
    ])
    func aWriteTheStatementLogMissesIsAChangeInItsDatabase(sql: String, table: String) async throws {
        let server = try await Self.prepared.value
        guard try await Self.hasWalinspect(server) else { return }
        try await withDevDatabase { server, _, oid, dev in
            let witness = try await WalWitness.open(server: server.connectionString, logger: TestSupport.logger)
            let seen = try await changes(of: sql, on: dev, witness: witness)
            await witness.close()
            let data = (seen[oid] ?? []).filter(\.isDataChange)
            #expect(data.contains { $0.table == table }, "\(seen)")
            #expect(seen[witness.databaseOID] == nil)
            // Neither maintenance database changed (postgres and template1 are OIDs 5 and 1;
            // other tests write into databases of their own meanwhile).
            #expect((seen[5] ?? []).allSatisfy { !$0.isDataChange } && (seen[1] ?? []).allSatisfy { !$0.isDataChange }, "\(seen)")
        }
    }

    /// Reads leave WAL behind — hint-bit page images (checksums on), pruning, row locks — and
    /// none of it is a change.
    @Test func readsAfterABulkInsertAreNotChanges() async throws {
        let server = try await Self.prepared.value
        guard try await Self.hasWalinspect(server) else { return }
        try await withDevDatabase { server, _, oid, dev in
            try await dev.simpleQuery("""
                CREATE TABLE bulk (id int PRIMARY KEY, payload text);
                INSERT INTO bulk SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g;
                DELETE FROM bulk WHERE id % 7 = 0;
                """)
            try await dev.execute("CHECKPOINT")   // the next hint-bit change of each page logs it whole
            let witness = try await WalWitness.open(server: server.connectionString, logger: TestSupport.logger)
            let start = try await witness.mark()
            try await dev.simpleQuery("SELECT count(*), max(payload) FROM bulk")
            try await dev.simpleQuery("BEGIN; SELECT * FROM bulk WHERE id = 3 FOR UPDATE; COMMIT")
            try await dev.simpleQuery("SELECT count(*) FROM bulk WHERE id > 10")
            let end = try await witness.mark()
            let seen = try await witness.changes(from: start, to: end)
            // The window did hold what reads write: page images for hint bits, a row lock.
            let inspector = try await Connection.connect(to: server.connectionString, database: witness.databaseName)
            let kinds = Set(try await inspector.execute(
                "SELECT DISTINCT resource_manager || '/' || record_type FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)",
                start.description, end.description).rows.compactMap { $0[0] })
            await inspector.close()
            await witness.close()
            #expect(kinds.contains("XLOG/FPI_FOR_HINT"), "\(kinds)")
            #expect(kinds.contains("Heap/LOCK"), "\(kinds)")
            #expect((seen[oid] ?? []).isEmpty, "\(seen)")
        }
    }

    /// VACUUM (pruning, freezing, truncating the emptied end) and ANALYZE (pg_statistic, a
    /// catalog) are maintenance, not data changes.
    @Test func vacuumAndAnalyzeAreNotDataChanges() async throws {
        let server = try await Self.prepared.value
        guard try await Self.hasWalinspect(server) else { return }
        try await withDevDatabase { server, _, oid, dev in
            try await dev.simpleQuery("""
                CREATE TABLE churn (id int, payload text);
                INSERT INTO churn SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g;
                DELETE FROM churn WHERE id > 5000;
                """)
            let witness = try await WalWitness.open(server: server.connectionString, logger: TestSupport.logger)
            let start = try await witness.mark()
            try await dev.execute("VACUUM churn")
            try await dev.execute("ANALYZE churn")
            let end = try await witness.mark()
            let seen = await witness.resolveNames(of: try await witness.changes(from: start, to: end)[oid] ?? [], in: await dev.database)
            await witness.close()
            #expect(seen.allSatisfy { !$0.isDataChange }, "\(seen)")
        }
    }

    @Test func itInstallsTheExtensionOnlyIntoADatabaseOfItsOwnAndLeavesNothing() async throws {
        let server = try await Self.prepared.value
        guard try await Self.hasWalinspect(server) else { return }
        let witness = try await WalWitness.open(server: server.connectionString, prefix: "wwtest", logger: TestSupport.logger)
        let admin = try await AdminConnection.connect(to: server.connectionString, runID: RunID(), logger: TestSupport.logger)
        #expect(witness.databaseName.hasPrefix("wwtest_") && witness.databaseName.hasSuffix("_wal"))
        let marker = try await admin.marker(of: witness.databaseName)
        #expect(marker != nil)
        for maintenance in ["postgres", "template1"] {
            let connection = try await Connection.connect(to: server.connectionString, database: maintenance)
            #expect(try await connection.scalar("SELECT count(*) FROM pg_extension WHERE extname = 'pg_walinspect'", as: Int.self) == 0)
            await connection.close()
        }
        #expect(witness.slot != nil)   // a superuser keeps the WAL with a temporary slot
        await witness.close()
        #expect(try await admin.exists(witness.databaseName) == false)
        #expect(try await admin.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", witness.slot).rows.first?[0] == "0")
        await admin.close()
    }

    @Test func theRulesTellChangesFromWhatReadsAndMaintenanceWrite() {
        func effect(_ manager: String, _ type: String) -> WalChange.Effect? {
            WalRecord(resourceManager: manager, recordType: type, tablespace: 1663, database: 16384, relfilenode: 16400, count: 1).change
        }
        #expect(effect("Heap", "INSERT+INIT") == .rows)
        #expect(effect("Heap", "HOT_UPDATE") == .rows)
        #expect(effect("Heap", "DELETE") == .rows)
        #expect(effect("Heap", "LOCK") == nil)          // SELECT … FOR UPDATE
        #expect(effect("Heap", "INPLACE") == nil)       // VACUUM/ANALYZE's pg_class update
        #expect(effect("Heap2", "MULTI_INSERT+INIT") == .rows)
        #expect(effect("Heap2", "PRUNE") == nil)
        #expect(effect("Heap2", "PRUNE_ON_ACCESS") == nil)
        #expect(effect("Heap2", "VISIBLE") == nil)
        #expect(effect("Heap2", "FREEZE_PAGE") == nil)
        #expect(effect("Btree", "INSERT_LEAF") == .rows)
        #expect(effect("Btree", "SPLIT_L") == .rows)
        #expect(effect("Btree", "VACUUM") == nil)
        #expect(effect("Sequence", "LOG") == .rows)
        #expect(effect("Storage", "CREATE") == .storage)
        #expect(effect("Storage", "TRUNCATE") == nil)
        #expect(effect("XLOG", "FPI") == .storage)
        #expect(effect("XLOG", "FPI_FOR_HINT") == nil)
        #expect(WalRecord(resourceManager: "XLOG", recordType: "FPI", tablespace: 1663, database: 16384, relfilenode: 16400, fork: "vm", count: 1).change == nil)
        #expect(WalRecord(resourceManager: "XLOG", recordType: "FPI", tablespace: 1663, database: 16384, relfilenode: 16400, fork: "fsm", count: 1).change == nil)
        #expect(effect("Standby", "LOCK") == nil)
        #expect(effect("Transaction", "COMMIT") == nil)
        let folded = WalChange.changes(from: [
            WalRecord(resourceManager: "Storage", recordType: "CREATE", tablespace: 0, database: 5, relfilenode: 16500, count: 1),
            WalRecord(resourceManager: "Heap", recordType: "INSERT", tablespace: 1663, database: 5, relfilenode: 16500, count: 2),
            WalRecord(resourceManager: "Heap", recordType: "INSERT", tablespace: 1664, database: 0, relfilenode: 1262, count: 1),
            WalRecord(resourceManager: "Heap", recordType: "INSERT", tablespace: 1663, database: 5, relfilenode: 2619, count: 1),
        ])
        #expect(folded.count == 2)   // the shared catalog (database 0) is nobody's
        #expect(folded.first { $0.relfilenode == 16500 }?.effect == .rows)
        #expect(folded.first { $0.relfilenode == 16500 }?.tablespace == 1663)
        #expect(folded.first { $0.relfilenode == 2619 }?.isDataChange == false)   // pg_statistic: a catalog
    }

    @Test func lsnsParseAndBackOffAPageHeader() {
        #expect(WalLSN("16/B374D848")?.value == 0x16_B374_D848)
        #expect(WalLSN("0/3FBC000")?.description == "0/3FBC000")
        #expect(WalLSN("nonsense") == nil)
        #expect(WalLSN(0x3FBC018).backingOffPageHeader(pageSize: 8192) == WalLSN(0x3FBC000))
        #expect(WalLSN(0x3000028).backingOffPageHeader(pageSize: 8192) == WalLSN(0x3000000))
        #expect(WalLSN(0x3FBC0A0).backingOffPageHeader(pageSize: 8192) == WalLSN(0x3FBC0A0))
    }
}
