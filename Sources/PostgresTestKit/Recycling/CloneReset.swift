/// Brings a released clone back to its template's state on a connection to it (renamed, so no
/// other session is there), in two round trips: one catalog read names the relation files its
/// WAL window changed and the tables that reference them; ``ResetPlan`` decides; one
/// transaction runs the plan — `DELETE FROM ONLY` of small tables or `TRUNCATE ONLY` of larger
/// ones (``ResetPlan/Emptying``), the template rows of small tables put back (the
/// baseline's JSON, each value cast back by its type), `setval` of the sequences —
/// with no user trigger firing (`session_replication_role = replica`; the plan refuses tables
/// with `TRUNCATE` triggers), together with the caller's bookkeeping (the spare's marker), and
/// reads the WAL position after it: where the clone's next window opens.
///
/// The transaction does not wait for its WAL flush (`synchronous_commit = off`): a server
/// crash loses the reset, and with it every session to the clone, which is then dropped.
///
/// The emptied tables' activity counters are reset too, and the reset's own writes are not
/// counted (`track_counts = off`): a fresh clone has none, and on a server where autovacuum
/// runs, counters that added up over resets made it analyze a table inside a later test's
/// window, whose clone was then dropped (half the large-template figure on a stock server).
enum CloneReset {
    /// What a reset did.
    struct Outcome: Sendable {
        /// The plan it ran.
        let plan: ResetPlan
        /// The WAL insert position after its commit.
        let lsn: WalLSN
    }

    /// Resets the clone behind `connection`, running `alongside` (SQL) in the same
    /// transaction; or says why it could not (the clone is then dropped). A server error is a
    /// refusal too: the transaction is rolled back.
    static func run(
        _ files: Set<ResetRule.RelationFile>, baseline: TemplateBaseline, alongside: String = "", on connection: Connection
    ) async throws -> Result<Outcome, ResetPlan.Refusal> {
        let catalog = try await read(files, on: connection)
        let changed: (tables: Set<UInt32>, sequences: Set<UInt32>)
        switch ResetPlan.changedTables(catalog.relations) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let found): changed = found
        }
        let closure = catalog.closure
        let plan: ResetPlan
        switch ResetPlan.make(closure: closure, sequences: changed.sequences, baseline: baseline) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let made): plan = made
        }
        let script = self.script(plan, names: Dictionary(closure.map { ($0.oid, $0.name) }, uniquingKeysWith: { first, _ in first }), alongside: alongside)
        let lsn: WalLSN?
        do {
            lsn = try await connection.simpleQuery(script).rows.first?[0].flatMap(WalLSN.init)
        } catch let error as PGError where error.code != .connectionClosed {
            _ = try? await connection.simpleQuery("ROLLBACK")
            return .failure(ResetPlan.Refusal("the reset failed (\(error.message))"))
        }
        guard let lsn else { return .failure(.init("the server gave no WAL position after the reset")) }
        return .success(Outcome(plan: plan, lsn: lsn))
    }

    /// The reset's one transaction, then the WAL position after it.
    static func script(_ plan: ResetPlan, names: [UInt32: String], alongside: String) -> String {
        var script = "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL session_replication_role = replica; SET LOCAL lock_timeout = '5s';"
            + " SELECT set_config('track_counts', 'off', true) WHERE current_setting('is_superuser') = 'on';"
        let tables = plan.emptied.compactMap { names[$0] }
        if !tables.isEmpty {
            switch plan.emptying {
            case .truncate: script += " TRUNCATE ONLY " + tables.joined(separator: ", ") + ";"
            case .delete: script += tables.map { " DELETE FROM ONLY \($0);" }.joined()
            }
        }
        if !plan.restored.isEmpty { script += " " + TemplateBaseline.rowsSettings }
        for (oid, rows) in plan.restored.sorted(by: { $0.key < $1.key }) {
            guard let name = names[oid] else { continue }
            var (tag, n) = ("$pgtk$", 0)
            while rows.json.contains(tag) { n += 1; tag = "$pgtk\(n)$" }
            script += " INSERT INTO \(name) (\(rows.columns)) OVERRIDING SYSTEM VALUE SELECT \(rows.values)"
                + " FROM json_array_elements(\(tag)\(rows.json)\(tag)) WITH ORDINALITY AS e(r, n) ORDER BY n;"
        }
        if !plan.sequences.isEmpty {
            let sequences = plan.sequences.sorted { $0.key < $1.key }
            script += " SELECT setval(s.oid, s.value, s.called) FROM unnest('{\(sequences.map { String($0.key) }.joined(separator: ","))}'::oid[], "
                + "'{\(sequences.map { String($0.value.value) }.joined(separator: ","))}'::int8[], "
                + "'{\(sequences.map { $0.value.isCalled ? "t" : "f" }.joined(separator: ","))}'::bool[]) AS s(oid, value, called);"
        }
        if !plan.emptied.isEmpty {
            // A fresh clone has no activity counters; the test's would add up over resets
            // until autovacuum analyzed the table inside a later test's window (a drop).
            script += " SELECT pg_stat_reset_single_table_counters(r) FROM pg_class c, unnest(ARRAY[c.oid, c.reltoastrelid]) AS r"
                + " WHERE c.oid = ANY ('{\(plan.emptied.map(String.init).joined(separator: ","))}'::oid[]) AND r <> 0 AND current_setting('is_superuser') = 'on';"
        }
        return script + " \(alongside) COMMIT; SELECT pg_current_wal_insert_lsn()::text;"
    }

    /// One round trip: each changed relation file as the clone's catalog names it (its
    /// relation, and the table whose rows it holds: an index's table, a TOAST table's owner),
    /// and the ordinary tables among those with every table that references one of them by a
    /// foreign key, transitively (`TRUNCATE` refuses a referenced table without its
    /// referencing ones), with their quoted names, whether a trigger fires on their `TRUNCATE`,
    /// and whether a `DELETE` empties them as `TRUNCATE` would (``ResetPlan/Table/deletable``).
    /// Partitioned parents are left out of the closure: they hold no rows, and their partitions
    /// carry the constraint too.
    static func read(_ files: Set<ResetRule.RelationFile>, on connection: Connection) async throws -> (relations: [ResetPlan.Relation], closure: [ResetPlan.Table]) {
        let sorted = files.sorted()
        let rows = try await connection.execute("""
            WITH RECURSIVE f AS (
                SELECT f.spc, f.node, pg_filenode_relation(f.spc, f.node) AS rel FROM unnest($1::oid[], $2::oid[]) AS f(spc, node)
            ), resolved AS (
                SELECT f.spc, f.node, c.oid, c.relkind, t.oid AS tab, t.relkind AS tabkind
                FROM f
                LEFT JOIN pg_class c ON c.oid = f.rel
                LEFT JOIN pg_index i ON i.indexrelid = c.oid
                LEFT JOIN pg_class b ON b.oid = coalesce(i.indrelid, c.oid)
                LEFT JOIN pg_class t ON t.oid = CASE b.relkind
                    WHEN 't' THEN (SELECT o.oid FROM pg_class o WHERE o.reltoastrelid = b.oid)
                    WHEN 'S' THEN NULL
                    ELSE b.oid END
            ), closure(oid) AS (
                SELECT tab FROM resolved WHERE tabkind = 'r' AND tab >= 16384
                UNION
                SELECT k.conrelid FROM pg_constraint k JOIN closure ON k.confrelid = closure.oid WHERE k.contype = 'f'
            )
            SELECT 'relation', r.spc::int8, r.node::int8, r.oid::int8, coalesce(r.relkind::text, ''),
                   coalesce(r.oid::regclass::text, ''), r.tab::int8, r.tabkind::text, NULL::bool, NULL::bool, NULL::bool
            FROM resolved r
            UNION ALL
            SELECT 'closure', NULL, NULL, c.oid::int8, c.relkind::text, c.oid::regclass::text, NULL, NULL,
                   coalesce(g.truncating, false),
                   NOT c.relrowsecurity AND c.reltuples < 0 AND NOT c.relhassubclass
                   AND pg_relation_size(c.oid) < 10 * current_setting('block_size')::int8
                   AND pg_table_size(c.oid) <= 1048576
                   AND pg_indexes_size(c.oid) <= 4 * current_setting('block_size')::int8 * (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid)
                   AND NOT coalesce(g.deleting, false)
                   AND NOT EXISTS (SELECT FROM pg_rewrite w WHERE w.ev_class = c.oid AND w.ev_type = '4' AND w.ev_enabled IN ('A', 'R'))
                   AND NOT EXISTS (SELECT FROM pg_publication),
                   c.relpages = 0 AND c.reltuples < 0 AND NOT coalesce(g.inserting, false)
                   AND NOT EXISTS (SELECT FROM pg_rewrite w WHERE w.ev_class = c.oid AND w.ev_type = '3' AND w.ev_enabled IN ('A', 'R'))
            FROM closure JOIN pg_class c ON c.oid = closure.oid
            LEFT JOIN LATERAL (
                SELECT bool_or(NOT g.tgisinternal AND (g.tgtype & 32) <> 0) AS truncating,
                       bool_or(g.tgenabled IN ('A', 'R') AND (g.tgtype & 8) <> 0) AS deleting,
                       bool_or(g.tgenabled IN ('A', 'R') AND (g.tgtype & 4) <> 0) AS inserting
                FROM pg_trigger g WHERE g.tgrelid = c.oid
            ) g ON true
            WHERE c.relkind <> 'p'
            """, "{\(sorted.map { String($0.tablespace) }.joined(separator: ","))}",
            "{\(sorted.map { String($0.relfilenode) }.joined(separator: ","))}").rows
        var relations: [ResetPlan.Relation] = [], closure: [ResetPlan.Table] = []
        for row in rows {
            let oid = try row.decode(Int64?.self, at: 3).map { UInt32($0) }
            let name = try row.decode(String.self, at: 5)
            if try row.decode(String.self, at: 0) == "relation" {
                relations.append(ResetPlan.Relation(
                    file: .init(tablespace: UInt32(try row.decode(Int64.self, at: 1)), relfilenode: UInt32(try row.decode(Int64.self, at: 2))),
                    oid: oid, kind: try row.decode(String.self, at: 4), name: name,
                    table: try row.decode(Int64?.self, at: 6).map { UInt32($0) }, tableKind: try row.decode(String?.self, at: 7)))
            } else if let oid {
                closure.append(ResetPlan.Table(
                    oid: oid, name: name, hasTruncateTrigger: try row.decode(Bool.self, at: 8), deletable: try row.decode(Bool.self, at: 9),
                    restorable: try row.decode(Bool.self, at: 10)))
            }
        }
        return (relations, closure)
    }
}
