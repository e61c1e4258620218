import Foundation
import Testing
@testable import PostgresTestKit

/// Recycling released clones the WAL shows unchanged: every change a reset cannot undo ends in
/// a drop (the rows of a table with rows in the template among them), every read is recycled, and where the WAL cannot vouch (no `pg_walinspect`) clones are
/// dropped as before.
/// Serialized: each of its ~40 cases makes a manager of its own (about seven connections), and
/// run at once beside the rest of the suite they would fill `max_connections`.
extension ProcessWitnessSuites {
@Suite("Recycling unchanged clones", .serialized)
struct CloneRecyclingTests {
    /// One template for the suite: rows, an index, a serial, a sequence with values used.
    static let schema = SchemaMigrations.closure(fingerprint: "recycle-schema-1") { context in
        try await context.connection.simpleQuery("""
            CREATE TABLE notes (id serial PRIMARY KEY, body text);
            CREATE INDEX notes_body ON notes (body);
            INSERT INTO notes (body) SELECT 'seeded ' || g FROM generate_series(1, 50) g;
            CREATE SEQUENCE counter;
            SELECT nextval('counter'), nextval('counter');
            """)
    }
    static let prefix = TestSupport.uniquePrefix()

    static func manager(audit: AuditPolicy = .warn) -> TestDatabaseManager {
        TestDatabaseManager(prefix: prefix, migrations: schema, audit: audit, poolSize: 1, logger: TestSupport.logger)
    }

    /// Whether the server can vouch for clones; says why not when it cannot.
    static func serverHasWalinspect() async throws -> Bool {
        let connection = try await TestSupport.connect()
        let row = try await connection.execute("""
            SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_walinspect'),
                   (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
            """).rows[0]
        await connection.close()
        return try row.decode(Bool.self, at: 0) && row.decode(Bool.self, at: 1)
    }

    /// Runs `body` on a pooled clone, releases it and returns the verdict on it (`nil`:
    /// the server cannot vouch for clones, which the fallback test covers).
    static func verdict(
        audit: AuditPolicy = .warn, _ body: (PostgresTestDatabase, TestDatabaseManager) async throws -> Void
    ) async throws -> RecycleVerdict? {
        let manager = manager(audit: audit)
        defer { Task { await manager.shutdown() } }
        guard try await manager.recyclesClones else { return nil }
        let db = try await manager.acquire(testName: "recycling")
        #expect(db.fromPool)
        #expect(await manager.hasRecycleWindow(db.name), "the pooled clone \(db.name) has no WAL window")
        try await body(db, manager)
        try? await db.release()
        await manager.waitForDrops()
        let verdicts = await manager.recycleVerdicts
        #expect(verdicts.count == 1)
        await manager.shutdown()
        return verdicts.first
    }

    /// A file the server can read, for `COPY … FROM`.
    static func copyFile() throws -> String {
        let path = "/tmp/pgtk-copy-\(UInt32.random(in: 0...UInt32.max)).txt"
        try "copied\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        return path
    }

    @Test(arguments: [
        "INSERT INTO notes (body) VALUES ('new')",
        "UPDATE notes SET body = 'changed' WHERE id = 1",
        "DELETE FROM notes WHERE id = 1",
        "TRUNCATE notes",
        "CREATE TABLE extra (x int)",
        "ALTER TABLE notes ADD COLUMN extra int",
        "CREATE TEMP TABLE scratch (x int)",
        "CREATE EXTENSION pg_walinspect",
        "ANALYZE notes",
        "SELECT lo_create(0)",
        "DO $$ BEGIN INSERT INTO notes (body) VALUES ('from DO'); END $$",
        "WITH w AS (INSERT INTO notes (body) VALUES ('cte') RETURNING id) SELECT count(*) FROM w",
        "CREATE UNLOGGED TABLE fast (x int)",
        // Rolled back, yet written: dead row versions, index entries, the serial moved on.
        "BEGIN; INSERT INTO notes (body) VALUES ('rolled back'); ROLLBACK",
        "BEGIN; DELETE FROM notes; ROLLBACK",
        "VACUUM notes",
    ])
    func aChangeOfAnyKindEndsInADrop(sql: String) async throws {
        guard let verdict = try await Self.verdict({ db, _ in _ = try await db.simpleQuery(sql) }) else { return }
        // Never recycled as unchanged: dropped, or — rows of `notes`, a small table whose
        // template rows a reset puts back — reset, with `notes` in the plan.
        if let reset = verdict.reset {
            #expect(verdict.recycledAs != nil && !reset.restored.isEmpty, "\(sql): \(reset)")
            #expect(sql.contains("notes") && !sql.contains("TRUNCATE") && !sql.contains("ALTER") && !sql.contains("ANALYZE") && !sql.contains("VACUUM"),
                    "\(sql) may only end in a drop")
        } else {
            #expect(verdict.recycledAs == nil, "\(sql) must not be recycled")
            #expect(verdict.reason != nil)
        }
    }

    /// A sequence moved on, and nothing else: set back to its template state (``ResetPlan``),
    /// not dropped.
    @Test(arguments: ["SELECT nextval('counter')", "SELECT nextval('notes_id_seq')", "SELECT setval('counter', 100)"])
    func aSequenceThatMovedOnIsSetBack(sql: String) async throws {
        guard let verdict = try await Self.verdict({ db, _ in _ = try await db.simpleQuery(sql) }) else { return }
        #expect(verdict.recycledAs != nil, "\(sql): \(verdict.reason ?? "")")
        #expect(verdict.reset?.emptied == [])
        #expect(verdict.reset?.sequences.count == 1)
    }

    /// A `COPY` from a file is seen: never recycled as unchanged — `notes`' template rows are
    /// put back (a reset that names it).
    @Test func copyFromAFileIsSeenAndUndone() async throws {
        let path = try Self.copyFile()
        defer { unlink(path) }
        guard let verdict = try await Self.verdict({ db, _ in _ = try await db.simpleQuery("COPY notes (body) FROM '\(path)'") }) else { return }
        #expect(verdict.reset?.restored.isEmpty == false, "\(verdict.reason ?? "")")
    }

    /// A write through the app's own client (not the toolkit's session) is seen all the same.
    @Test func aWriteThroughTheAppsOwnClientIsSeenAndUndone() async throws {
        guard let verdict = try await Self.verdict({ db, _ in
            let app = try await Connection.connect(to: db.connectionString, applicationName: "the-app")
            try await app.execute("INSERT INTO notes (body) VALUES ('by the app')")
            await app.close()
        }) else { return }
        #expect(verdict.reset?.restored.isEmpty == false, "\(verdict.reason ?? "")")
    }

    @Test(arguments: [
        "ALTER DATABASE %@ SET work_mem = '8MB'",
        "REVOKE CONNECT ON DATABASE %@ FROM PUBLIC",
        "ALTER DATABASE %@ CONNECTION LIMIT 50",
    ])
    func aChangeInTheSharedCatalogsEndsInADrop(template: String) async throws {
        guard let verdict = try await Self.verdict({ db, _ in
            _ = try await db.simpleQuery(template.replacingOccurrences(of: "%@", with: "\"\(db.name)\""))
        }) else { return }
        #expect(verdict.recycledAs == nil)
        #expect(verdict.reason?.contains("shared catalogs") == true, "\(verdict.reason ?? "")")
    }

    @Test func aCommentOnTheDatabaseEndsInADrop() async throws {
        guard let verdict = try await Self.verdict({ db, manager in
            // The toolkit writes the test's marker in the background: wait for it, then edit it.
            let admin = try await TestSupport.admin()
            var marker = try await admin.marker(of: db.name)
            for _ in 0..<200 where marker?.test != "recycling" {
                try await Task.sleep(for: .milliseconds(5))
                marker = try await admin.marker(of: db.name)
            }
            var edited = try #require(marker)
            edited.test = "edited by the test"
            try await admin.writeMarker(edited, on: db.name)
            await admin.close()
        }) else { return }
        #expect(verdict.recycledAs == nil)
        #expect(verdict.reason?.contains("comment") == true)
    }

    @Test func aPreparedTransactionLeftBehindEndsInADrop() async throws {
        guard let verdict = try await Self.verdict({ db, _ in
            guard try await db.scalar("SELECT current_setting('max_prepared_transactions')::int", as: Int.self) > 0 else {
                Issue.record("the server allows no prepared transactions (max_prepared_transactions = 0)")
                return
            }
            let app = try await Connection.connect(to: db.connectionString, applicationName: "the-app")
            // Only a row lock: no row changes, yet the transaction outlives its session.
            try await app.simpleQuery("BEGIN; SELECT * FROM notes WHERE id = 1 FOR UPDATE; PREPARE TRANSACTION 'pgtk_left_behind_\(db.name.suffix(20))'")
            await app.close()
        }) else { return }
        #expect(verdict.recycledAs == nil)
        #expect(verdict.reason?.contains("prepared transaction") == true)
        // The drop rolled it back (the toolkit's own database): nothing is left behind.
        let connection = try await TestSupport.connect()
        #expect(try await connection.scalar("SELECT count(*) FROM pg_prepared_xacts WHERE database = $1", verdict.database, as: Int.self) == 0)
        #expect(try await connection.scalar("SELECT count(*) FROM pg_database WHERE datname = $1", verdict.database, as: Int.self) == 0)
        await connection.close()
    }

    @Test func aSessionStillConnectedIsNeverRecycled() async throws {
        let manager = Self.manager()
        guard try await manager.recyclesClones else { await manager.shutdown(); return }
        let db = try await manager.acquire(testName: "leaks")
        let app = try await Connection.connect(to: db.connectionString, applicationName: "leaky-app")
        try await db.release()
        await manager.settleRecycling()
        #expect(await manager.recycleVerdicts.isEmpty)   // straight to the dropper, not judged
        await app.close()
        await manager.shutdown()
    }

    @Test(arguments: [
        "SELECT count(*) FROM notes",
        "EXPLAIN SELECT * FROM notes WHERE body = 'x'",
        "BEGIN; SELECT * FROM notes; ROLLBACK",
        "LISTEN events",
        "SELECT pg_advisory_lock(42)",
        "SET work_mem = '16MB'",
        "SELECT * FROM notes WHERE id = 1 FOR UPDATE",
        "SELECT currval('counter') FROM (SELECT 1) x WHERE false",
        "CHECKPOINT; SELECT count(*) FROM notes",
    ])
    func aReadIsRecycled(sql: String) async throws {
        guard let verdict = try await Self.verdict({ db, _ in _ = try await db.simpleQuery(sql) }) else { return }
        #expect(verdict.recycledAs != nil, "\(sql): \(verdict.reason ?? "")")
    }

    @Test func aReadThroughTheAppsOwnClientIsRecycled() async throws {
        guard let verdict = try await Self.verdict({ db, _ in
            let app = try await Connection.connect(to: db.connectionString, applicationName: "the-app")
            #expect(try await app.scalar("SELECT count(*) FROM notes", as: Int.self) == 50)
            await app.close()
        }) else { return }
        #expect(verdict.recycledAs != nil, "\(verdict.reason ?? "")")
    }

    /// A recycled clone is handed out again under a new name, as the template made it, and
    /// its old name no longer reaches it.
    @Test func aRecycledCloneComesBackRenamedAndUnchanged() async throws {
        let manager = Self.manager()
        guard try await manager.recyclesClones else { await manager.shutdown(); return }
        let first = try await manager.acquire(testName: "first")
        #expect(try await first.scalar("SELECT count(*) FROM notes", as: Int.self) == 50)
        try await first.release()
        await manager.settleRecycling()
        let recycledAs = try #require(await manager.recycleVerdicts.first?.recycledAs)
        let second = try await manager.acquire(testName: "second")
        #expect(second.name == recycledAs)
        #expect(try await second.scalar("SELECT count(*) FROM notes", as: Int.self) == 50)
        await #expect(throws: PGError.self) { try await Connection.connect(to: first.connectionString) }
        let admin = try await TestSupport.admin()
        var uses = try await admin.marker(of: second.name)?.uses
        for _ in 0..<200 where uses != 2 {   // the test's marker is written in the background
            try await Task.sleep(for: .milliseconds(5))
            uses = try await admin.marker(of: second.name)?.uses
        }
        await admin.close()
        #expect(uses == 2)
        try await second.release()
        await manager.shutdown()
        #expect(RunReport.shared.snapshot.databasesRecycled >= 1)
    }

    /// A template with an unlogged table (its writes leave no WAL) never has its clones
    /// recycled, and its marker says why.
    @Test func aTemplateWithAnUnloggedTableIsNeverRecycled() async throws {
        guard try await Self.serverHasWalinspect() else { return }
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            migrations: .closure(fingerprint: "recycle-unlogged-2") { context in
                try await context.connection.simpleQuery("CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text)")
            },
            audit: .warn, poolSize: 1, logger: TestSupport.logger)
        #expect(try await manager.recyclesClones == false)
        let template = try #require(try await manager.templateName)
        let admin = try await TestSupport.admin()
        let recycling = try await admin.marker(of: template)?.recycling
        #expect(recycling?.contains("unlogged relations (public.cache)") == true, "\(recycling ?? "nil")")
        let db = try await manager.acquire(testName: "unlogged")
        try await db.execute("INSERT INTO cache VALUES ('a', 'no WAL for this')")
        try await db.release()
        await manager.waitForDrops()
        #expect(await manager.recycleVerdicts.isEmpty)
        #expect(try await admin.exists(db.name) == false)
        await manager.shutdown()
        _ = try? await admin.dropDatabase(template)
        await admin.close()
    }

    /// The witness's session killed (a DBA, a restart): the next use of the process's witness
    /// (a verdict, or the run audit's read) opens a new one, and recycling goes on — a window
    /// opened before the kill is still read, from the server's WAL, on the new session.
    @Test func aWitnessThatLostItsSessionIsReopened() async throws {
        let manager = Self.manager()
        guard try await manager.recyclesClones else { await manager.shutdown(); return }
        let admin = try await TestSupport.connect()
        // This process's witness only: other processes on the server (a test's subprocess,
        // another CI run) keep theirs.
        let owner = try await TestSupport.admin()
        let ours = try await owner.ownedDatabases().filter {
            $0.marker.test == "WAL witness (pg_walinspect)" && $0.marker.isFromThisHost
                && $0.marker.pid == ProcessInfo.processInfo.processIdentifier
        }.map(\.name)
        await owner.close()
        try #require(!ours.isEmpty, "this process has a WAL witness")
        for name in ours {
            try await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        }
        var recycledAfter = false
        for round in 0..<4 where !recycledAfter {
            let db = try await manager.acquire(testName: "round\(round)")
            _ = try await db.scalar("SELECT count(*) FROM notes", as: Int.self)
            try await db.release()
            await manager.waitForDrops()
            recycledAfter = await manager.recycleVerdicts.last?.recycledAs != nil
        }
        let verdicts = await manager.recycleVerdicts
        #expect(recycledAfter, "\(verdicts)")
        let witnesses = try await admin.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgtestkit-wal:%' AND datname LIKE '%\\_wal'", as: Int.self)
        #expect(witnesses >= 1, "a new witness serves the process")
        await admin.close()
        await manager.shutdown()
    }

    /// Where the server cannot vouch (the PostgreSQL 16 wheel has no pg_walinspect, or the
    /// role is no superuser), clones are dropped as before.
    @Test func withoutAWitnessClonesAreDroppedAsBefore() async throws {
        let manager = Self.manager()
        let recycles = try await manager.recyclesClones
        #expect(recycles == (try await Self.serverHasWalinspect()))
        if !recycles {
            let db = try await manager.acquire(testName: "fallback")
            try await db.release()
            await manager.settleRecycling()
            #expect(await manager.recycleVerdicts.isEmpty)
        }
        await manager.shutdown()
    }

    /// Why templates settle their sequences: cloned with `WAL_LOG`, a sequence page with
    /// values still cached can take its first `nextval` without any WAL record; settled
    /// (`setval` to its own value), every clone's first `nextval` is logged — with either
    /// strategy.
    @Test(arguments: CloneStrategy.allCases)
    func aSettledTemplateLogsEveryClonesFirstNextval(strategy: CloneStrategy) async throws {
        guard try await Self.serverHasWalinspect() else { return }
        let server = try await TestSupport.server()
        let admin = try await TestSupport.admin()
        let witness = try await WalWitness.open(server: server, prefix: TestSupport.uniquePrefix(), reserveWAL: false, logger: TestSupport.logger)
        let base = TestSupport.uniquePrefix("seqtpl")
        try await admin.createDatabase(base, marker: OwnerMarker(kind: .scratch, run: admin.runID))
        func onBase(_ sql: String) async throws {
            let session = try await Connection.connect(to: server, database: base)
            try await session.simpleQuery(sql)
            await session.close()
        }
        /// Whether a fresh clone's first nextval leaves a Sequence record in the clone.
        func firstNextvalIsLogged(_ clone: String) async throws -> Bool {
            try await admin.createDatabase(clone, template: base, strategy: strategy, marker: OwnerMarker(kind: .clone, run: admin.runID))
            let oid = try #require(try await witness.sharedState(of: clone)?.oid)
            let start = try await witness.mark()
            let connection = try await Connection.connect(to: server, database: clone)
            _ = try await connection.execute("SELECT nextval('s')")
            await connection.close()
            let records = try await witness.records(from: start, to: try await witness.mark())
            _ = try await admin.dropDatabase(clone)
            return records.contains { $0.database == oid && $0.resourceManager == "Sequence" }
        }
        var unsettled = false, settled = false
        do {
            try await onBase("CREATE SEQUENCE s; SELECT nextval('s'), nextval('s'), nextval('s')")
            unsettled = try await firstNextvalIsLogged("\(base)_u")
            try await onBase(TemplateBuilder.settleSequences)
            settled = try await firstNextvalIsLogged("\(base)_s")
        } catch {
            Issue.record(error)
        }
        _ = try? await admin.dropDatabase(base)
        await witness.close()
        await admin.close()
        #expect(settled, "a settled template's clone logs its first nextval (\(strategy.rawValue))")
        print("\(strategy.rawValue): first nextval of a clone logged — unsettled template: \(unsettled), settled: \(settled)")
    }
}
}
