import Foundation
import Synchronization
import Testing
@testable import PostgresTestKit

/// A clone a test wrote into is reset (``ResetPlan``) and goes back into the pool, and the
/// next test cannot tell it from a fresh clone: the same rows in every table, the same state
/// and `nextval` results of every sequence, the same constraints and triggers, no lock left.
/// Where the WAL cannot vouch (no `pg_walinspect`), the written clone is dropped and the next
/// test gets another: the comparison holds there too.
/// Serialized: each case makes a manager of its own (about seven connections).
extension ProcessWitnessSuites {
@Suite("Resetting what a writing test changed", .serialized)
struct CloneResetTests {
    /// Tables empty in the template (an identity, serials, a foreign key with ON DELETE
    /// CASCADE, a trigger that writes elsewhere, a partitioned table, a TOAST-sized column),
    /// a sequence no table owns that has moved on, and a table with rows.
    static let schema = SchemaMigrations.closure(fingerprint: "reset-schema-4") { context in
        try await context.connection.simpleQuery("""
            CREATE TABLE customers (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE);
            CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers ON DELETE CASCADE, note text);
            CREATE TABLE audit_log (id bigserial PRIMARY KEY, what text NOT NULL);
            CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO audit_log (what) VALUES ('order ' || NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER orders_logged AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order();
            CREATE FUNCTION add_customer(n text) RETURNS int LANGUAGE sql AS $$
                INSERT INTO customers (name) VALUES (n) RETURNING id $$;
            CREATE TABLE counters (key text PRIMARY KEY, n int NOT NULL);
            CREATE TABLE events (id bigserial, at date NOT NULL, body text) PARTITION BY RANGE (at);
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE TABLE documents (id serial PRIMARY KEY, body text);
            CREATE SEQUENCE tickets;
            SELECT nextval('tickets'), nextval('tickets'), nextval('tickets');
            CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
            INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany'), ('jp', 'Japan');
            CREATE TABLE watch_log (id serial PRIMARY KEY, what text NOT NULL);
            CREATE TABLE watched (id serial PRIMARY KEY, v text);
            CREATE FUNCTION log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO watch_log (what) VALUES ('deleted ' || OLD.id); RETURN OLD; END $$;
            CREATE TRIGGER watched_deleted AFTER DELETE ON watched FOR EACH ROW EXECUTE FUNCTION log_delete();
            ALTER TABLE watched ENABLE ALWAYS TRIGGER watched_deleted;
            CREATE TABLE ruled (id serial PRIMARY KEY);
            CREATE RULE ruled_deleted AS ON DELETE TO ruled DO ALSO INSERT INTO watch_log (what) VALUES ('rule ' || OLD.id);
            ALTER TABLE ruled ENABLE ALWAYS RULE ruled_deleted;
            CREATE TABLE private_notes (id serial PRIMARY KEY, owner text NOT NULL DEFAULT current_user, body text);
            ALTER TABLE private_notes ENABLE ROW LEVEL SECURITY;
            ALTER TABLE private_notes FORCE ROW LEVEL SECURITY;
            CREATE POLICY mine ON private_notes USING (owner = current_user);
            CREATE TABLE settings (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, f float8, n numeric, at timestamptz, b bytea,
                                   j jsonb, tags int[], span interval, note text, twice int GENERATED ALWAYS AS (id * 2) STORED,
                                   bounded int[], cash money, jn jsonb, rc regclass, "t" text);
            ALTER TABLE settings ADD COLUMN gone text; ALTER TABLE settings DROP COLUMN gone;
            INSERT INTO settings (f, n, at, b, j, tags, span, note, bounded, cash, jn, rc, "t") VALUES
                (0.1 + 0.2, 1.50, '2026-12-03 13:00:00.123456+01', '\\x00ff', '{"a": [1, 2.5, null]}', '{3,1}', '1 day 02:03:04.5', 'it''s $pgtk$ here',
                 '[0:1]={7,8}', 12.34, 'null', 'countries', '{"x": 1}'),
                (-1e-300, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL, NULL, '"a string"', NULL, NULL);
            CREATE TABLE archive (id int PRIMARY KEY, body text NOT NULL);
            INSERT INTO archive SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;
            CREATE TABLE tagged (id int PRIMARY KEY, tag text NOT NULL);
            INSERT INTO tagged VALUES (1, 'one');
            CREATE FUNCTION log_tag() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO watch_log (what) VALUES ('tagged ' || NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER tagged_inserted AFTER INSERT ON tagged FOR EACH ROW EXECUTE FUNCTION log_tag();
            ALTER TABLE tagged ENABLE ALWAYS TRIGGER tagged_inserted;
            """)
    }
    static let prefix = TestSupport.uniquePrefix("reset")

    /// The baseline in a template's marker must agree with the template: a client that keeps
    /// reconnecting and writing while the template is published (an app's pool the build
    /// terminated, coming back) must not make a table with rows look empty, or every reset of
    /// it would delete the template's rows. Each table the baseline calls empty is empty in a
    /// fresh clone.
    /// The racing client's switch and count.
    final class RacingClient: Sendable {
        let stop = Mutex(false)
        let writes = Mutex(0)
    }

    @Test func aClientWritingDuringThePublishCannotFoolTheBaseline() async throws {
        let racer = RacingClient()
        let migrations = SchemaMigrations.closure(fingerprint: "reset-baseline-race-\(UUID())") { context in
            try await context.connection.simpleQuery("CREATE TABLE late (id serial PRIMARY KEY, at timestamptz DEFAULT now())")
            let database = context.database
            Task.detached {   // the app's pool, reconnecting while the build publishes
                while !racer.stop.withLock({ $0 }) {
                    if let client = try? await TestSupport.connect(database: database) {
                        // Empty, then a row: a baseline read between the two sees an empty table.
                        _ = try? await client.execute("TRUNCATE late")
                        if (try? await client.execute("INSERT INTO late DEFAULT VALUES")) != nil { racer.writes.withLock { $0 += 1 } }
                        await client.close()
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix("race"), migrations: migrations, poolSize: 0,
                                          logger: TestSupport.logger)
        let name = try await manager.templateName
        let template = try #require(name)
        racer.stop.withLock { $0 = true }
        await manager.shutdown()
        let admin = try await TestSupport.admin()
        let clone = template + "_c"
        guard let baseline = try await admin.marker(of: template)?.baseline else {
            _ = try? await admin.dropDatabase(template)
            await admin.close()
            return   // no recycling here (no pg_walinspect): no baseline to check
        }
        try await admin.createDatabase(clone, template: template, marker: OwnerMarker(kind: .clone, run: admin.runID))
        let reader = try await TestSupport.connect(database: clone)
        let rows = try await reader.scalar("SELECT count(*) FROM late", as: Int.self)
        let oid = try await reader.scalar("SELECT 'late'::regclass::oid::int8", as: Int64.self)
        await reader.close()
        _ = try? await admin.dropDatabase(clone)
        _ = try? await admin.dropDatabase(template)
        await admin.close()
        #expect(racer.writes.withLock { $0 } > 0, "the client wrote while the template was built")
        #expect(baseline.emptyTables.contains(UInt32(oid)) == (rows == 0), "baseline: \(baseline.emptyTables.contains(UInt32(oid)) ? "empty" : "rows"), template: \(rows) rows")
    }

    /// A published template carries no activity counters from its build (the migrations'
    /// and seeders' inserts): on a server where autovacuum runs, they had it analyze the
    /// template while its pools cloned it. Its twin: the build's counters were there before
    /// the publish (a scratch database's inserts are counted at all).
    @Test func aPublishedTemplateCarriesNoActivityCounters() async throws {
        let manager = TestDatabaseManager(prefix: Self.prefix + "_st", migrations: Self.schema, audit: .warn, poolSize: 1, logger: TestSupport.logger)
        guard try await manager.recyclesClones else { await manager.shutdown(); return }   // the reset's path only
        let template = try #require(try await manager.templateName)
        let admin = try await TestSupport.admin()
        let inserted = try await admin.query("SELECT tup_inserted FROM pg_stat_database WHERE datname = $1", template)
            .rows.first?.decode(Int64.self, at: 0)
        #expect(inserted == 0, "the template \(template) still counts \(inserted ?? -1) inserts from its build")
        // The twin: the same build's inserts, counted on a scratch database that is not published.
        let scratch = TestSupport.uniquePrefix(Self.prefix + "_scratch")
        try await admin.createDatabase(scratch, template: template, marker: OwnerMarker(kind: .clone, run: admin.runID))
        let connection = try await TestSupport.connect(database: scratch)
        try await connection.simpleQuery("INSERT INTO countries VALUES ('it', 'Italy')")
        await connection.close()
        let counted = try await Deadline.poll(for: .seconds(5), every: .milliseconds(50), until: { $0 > 0 }) {
            try await admin.query("SELECT tup_inserted FROM pg_stat_database WHERE datname = $1", scratch).rows.first?.decode(Int64.self, at: 0) ?? 0
        }
        #expect(counted > 0, "an insert on \(scratch) is counted")
        _ = try await admin.dropDatabase(scratch)
        await admin.close()
        await manager.shutdown()
    }

    /// Everything a test could look at, as text: each table's row count and checksum, each
    /// sequence's state, the constraints and triggers, other sessions' locks — and, last (it
    /// moves them on), each sequence's next value.
    static func state(of database: String) async throws -> [String: String] {
        let connection = try await TestSupport.connect(database: database)
        var state: [String: String] = [:]
        let tables = try await connection.execute("""
            SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' ORDER BY 1
            """).rows.map { try $0.decode(String.self, at: 0) }
        for table in tables {
            state["table \(table)"] = try await connection.scalar(
                "SELECT count(*) || ' rows, ' || coalesce(md5(string_agg(t.ctid::text || t::text, '|' ORDER BY t.ctid)), '-') FROM \(table) t", as: String.self)
            // What the planner believes of it (a table emptied by DELETE keeps its pages; the
            // estimate, and so the plans, must stay a fresh clone's).
            let plan = try await connection.scalar("EXPLAIN (FORMAT JSON) SELECT * FROM \(table)", as: String.self)
            state["estimate \(table)"] = plan.firstMatch(of: /"Plan Rows": ([0-9]+)/).map { String($0.output.1) } ?? plan
            // What autovacuum goes by (a fresh clone has no counters; had the test's added up
            // over resets, autovacuum would analyze the table inside a later test's window).
            state["activity \(table)"] = try await connection.scalar(
                "SELECT coalesce((SELECT concat_ws(' ', n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup, n_mod_since_analyze) FROM pg_stat_all_tables WHERE relid = '\(table)'::regclass), '0 0 0 0 0')",
                as: String.self)
        }
        let sequences = try await connection.execute("SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'S' ORDER BY 1")
            .rows.map { try $0.decode(String.self, at: 0) }
        for sequence in sequences {
            state["sequence \(sequence)"] = try await connection.scalar(
                "SELECT last_value || ' ' || log_cnt || ' ' || is_called FROM \(sequence)", as: String.self)
        }
        state["constraints"] = try await connection.scalar("""
            SELECT string_agg(conname || ':' || contype::text || ':' || convalidated, ', ' ORDER BY conname)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            """, as: String.self)
        state["triggers"] = try await connection.scalar(
            "SELECT string_agg(tgname || ':' || tgenabled::text, ', ' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal", as: String.self)
        state["locks of other sessions"] = try await connection.scalar("""
            SELECT count(*)::text FROM pg_locks WHERE pid <> pg_backend_pid()
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, as: String.self)
        state["prepared transactions"] = try await connection.scalar("SELECT count(*)::text FROM pg_prepared_xacts WHERE database = current_database()", as: String.self)
        for sequence in sequences {
            state["nextval \(sequence)"] = try await connection.scalar("SELECT nextval('\(sequence)')::text", as: String.self)
        }
        await connection.close()
        return state
    }

    /// A test writes with `sql`; the next test's database is compared with a fresh clone.
    /// Returns the verdict on the written clone (`nil` where clones are not recycled).
    @discardableResult
    static func writeThenCompare(_ sql: String) async throws -> RecycleVerdict? {
        let manager = TestDatabaseManager(prefix: prefix, migrations: schema, audit: .warn, poolSize: 1, logger: TestSupport.logger)
        let recycles = try await manager.recyclesClones
        let written = try await manager.acquire(testName: "writes")
        _ = try await written.simpleQuery(sql)
        try await written.release()
        await manager.waitForDrops()
        let verdict = await manager.recycleVerdicts.first
        #expect(written.phases.current == (verdict?.recycledAs == nil ? .dropped : .recycled), "the written database's history ends as its verdict says")
        let next = try await manager.acquire(testName: "next")
        if recycles, let renamed = verdict?.recycledAs {
            #expect(next.name == renamed, "the next test gets the reset clone")
        } else {
            #expect(next.name != written.name)
        }
        let admin = try await TestSupport.admin()
        let fresh = TestSupport.uniquePrefix(prefix + "_fresh")
        try await admin.createDatabase(fresh, template: try await manager.templateName, marker: OwnerMarker(kind: .clone, run: admin.runID))
        let nextState = try await state(of: next.name)
        let freshState = try await state(of: fresh)
        for key in Set(nextState.keys).union(freshState.keys).sorted() where nextState[key] != freshState[key] {
            Issue.record("after \(sql): \(key) is \(nextState[key] ?? "missing") in the next test's database, \(freshState[key] ?? "missing") in a fresh clone")
        }
        #expect(nextState.count == freshState.count && nextState.count > 10)
        try await next.release()
        await manager.shutdown()
        _ = try await admin.dropDatabase(fresh)
        await admin.close()
        return recycles ? verdict : nil
    }

    @Test(arguments: [
        "INSERT INTO customers (name) VALUES ('ada'), ('grace')",                                               // an identity column
        "INSERT INTO customers (name) VALUES ('ada'); UPDATE customers SET name = 'ada l.' WHERE name = 'ada'",
        "INSERT INTO customers (name) VALUES ('ada'), ('bob'); DELETE FROM customers WHERE name = 'bob'",
        "INSERT INTO customers (name) VALUES ('c'); INSERT INTO orders (customer_id, note) SELECT id, 'first' FROM customers",   // a serial, a trigger writing elsewhere
        "INSERT INTO customers (name) VALUES ('c'); INSERT INTO orders (customer_id) SELECT id FROM customers; DELETE FROM customers",   // ON DELETE CASCADE
        "SELECT nextval('tickets'), nextval('tickets')",                                                       // a sequence no table owns
        "INSERT INTO events (at, body) VALUES ('2025-06-01', 'a'), ('2026-06-01', 'b')",                       // a partitioned table
        "SELECT add_customer('from a SELECT')",                                                                // a writing function
        "INSERT INTO counters VALUES ('k', 1) ON CONFLICT (key) DO UPDATE SET n = counters.n + 1; INSERT INTO counters VALUES ('k', 1) ON CONFLICT (key) DO UPDATE SET n = counters.n + 1",
        "INSERT INTO documents (body) SELECT string_agg(md5(g::text), '') FROM generate_series(1, 20000) g",   // TOAST
        "BEGIN; INSERT INTO customers (name) VALUES ('rolled back'); ROLLBACK",                                 // the identity moved on
    ])
    func aWritingTestsCloneIsResetAndCannotBeToldFromAFreshOne(sql: String) async throws {
        guard let verdict = try await Self.writeThenCompare(sql) else { return }   // compared with the fallback's new clone
        // The one outcome that is not the reset's to decide: the rest of the suite wrote so much
        // WAL meanwhile that the window's was recycled; the clone is then dropped, and the
        // comparison above still held for the clone the next test got.
        if verdict.reason?.contains("has already been removed") == true { return }
        #expect(verdict.recycledAs != nil && verdict.reset != nil, "\(sql): \(verdict.reason ?? "")")
    }

    /// A reset empties small tables by `DELETE` (cheap on a stock server) only where that
    /// empties them as `TRUNCATE` would: a `DELETE` trigger or rule enabled ALWAYS (which
    /// fires even under `session_replication_role = replica` and would write elsewhere),
    /// row-level security (which could hide rows from the delete) or a table of 10 pages or
    /// more (whose dead pages the planner would count) makes it a `TRUNCATE`. Each case is also compared with a fresh clone: a wrong `DELETE` would
    /// leave rows in `watch_log`, and the comparison would see them.
    @Test(arguments: [
        ("INSERT INTO customers (name) VALUES ('ada'); INSERT INTO orders (customer_id) SELECT id FROM customers", ResetPlan.Emptying.delete),
        ("INSERT INTO watched (v) VALUES ('a'), ('b')", .truncate),                      // an ALWAYS trigger on DELETE
        ("INSERT INTO ruled DEFAULT VALUES", .truncate),                                 // an ALWAYS rule on DELETE
        ("INSERT INTO private_notes (body) VALUES ('mine')", .truncate),                 // row-level security, forced
        ("INSERT INTO events (at, body) SELECT '2025-06-01', 'n' || g FROM generate_series(1, 3000) g", .truncate),   // 10 pages and more (no index): the planner would see them
        ("INSERT INTO documents (body) SELECT md5(g::text) FROM generate_series(1, 40000) g", .truncate),   // past 1 MB
    ])
    func smallTablesAreDeletedOnlyWhereThatEmptiesThemAsTruncateWould(sql: String, emptying: ResetPlan.Emptying) async throws {
        guard let verdict = try await Self.writeThenCompare(sql) else { return }
        if verdict.reason?.contains("has already been removed") == true { return }
        #expect(verdict.reset?.emptying == emptying, "\(sql): \(verdict.reset.map { "\($0)" } ?? verdict.reason ?? "")")
    }

    @Test func copyIntoATableIsReset() async throws {
        let path = try CloneRecyclingTests.copyFile()
        defer { unlink(path) }
        guard let verdict = try await Self.writeThenCompare("COPY customers (name) FROM '\(path)'") else { return }
        #expect(verdict.reset?.emptied.isEmpty == false, "\(verdict.reason ?? "")")
    }

    /// A small table's template rows are put back from the baseline (no copy of them in the
    /// user's database): every value of every type as it was (floats, numerics, timestamps,
    /// bytea, jsonb, arrays, intervals, a generated column, a dropped one, a text holding the
    /// reset's own quoting), in their order, and the next test cannot tell.
    @Test(arguments: [
        ("UPDATE countries SET name = 'France!' WHERE code = 'fr'", "countries"),
        ("INSERT INTO countries VALUES ('it', 'Italy')", "countries"),
        ("DELETE FROM countries", "countries"),
        ("UPDATE settings SET f = 0, note = NULL; INSERT INTO settings (f) VALUES (1)", "settings"),
        ("DELETE FROM settings WHERE id = 1", "settings"),
    ])
    func aSmallTableWithRowsInTheTemplateIsPutBack(sql: String, table: String) async throws {
        guard let verdict = try await Self.writeThenCompare(sql) else { return }
        if verdict.reason?.contains("has already been removed") == true { return }
        let plan = try #require(verdict.reset, "\(sql): \(verdict.reason ?? "")")
        #expect(plan.restored.count == 1 && plan.emptying == .truncate, "\(sql): \(plan)")
        let rows = try #require(plan.restored.values.first)
        #expect(!rows.columns.contains("twice"), "a generated column is not inserted")
        #expect(rows.columns.hasPrefix(table == "countries" ? "code, name" : "id, f, n"), "\(table): \(rows.columns)")
    }

    /// Where putting rows back is not exact, the clone is dropped, and the next test still
    /// cannot tell: a table past the baseline's size (1,000 rows, 15 pages: the planner sees its
    /// size), and one whose `INSERT` trigger fires even for the reset (`ENABLE ALWAYS`): putting
    /// its row back would write into `watch_log`.
    @Test(arguments: [
        ("UPDATE archive SET body = 'y' WHERE id = 1", "archive has rows in the template that a reset does not put back"),
        ("UPDATE tagged SET tag = 'uno'", "tagged has rows in the template, and was vacuumed or analyzed since, or a trigger or rule"),
    ])
    func aTableWhoseRowsCannotBePutBackEndsInADrop(sql: String, reason: String) async throws {
        guard let verdict = try await Self.writeThenCompare(sql) else { return }
        #expect(verdict.recycledAs == nil && verdict.reset == nil)
        #expect(verdict.reason?.contains(reason) == true, "\(verdict.reason ?? "")")
    }

    @Test func whatTheTestChangedIsWhatIsTruncated() async throws {
        guard let verdict = try await Self.writeThenCompare("INSERT INTO customers (name) VALUES ('only customers')") else { return }
        let plan = try #require(verdict.reset)
        // customers changed; orders references it (TRUNCATE needs both); nothing else is touched.
        #expect(plan.emptied.count == 2, "\(plan)")
        #expect(plan.sequences.count == 1, "the identity's sequence: \(plan)")
    }
}
}
