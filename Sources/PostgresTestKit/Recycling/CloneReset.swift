/// Brings a released clone back to its template's state on a connection to it (renamed, so no
/// other session is there): names the relation files its WAL window changed from its catalog,
/// plans with ``ResetPlan`` and runs the plan in one transaction — `TRUNCATE ONLY` of the
/// tables, `setval` of the sequences — with no user trigger firing
/// (`session_replication_role = replica`; the plan refuses tables with `TRUNCATE` triggers).
enum CloneReset {
    /// Resets the clone behind `connection`; returns the plan it ran, or why it could not (the
    /// clone is then dropped). A server error is a refusal too: the transaction is rolled back.
    static func run(
        _ files: Set<ResetRule.RelationFile>, baseline: TemplateBaseline, on connection: Connection
    ) async throws -> Result<ResetPlan, ResetPlan.Refusal> {
        let changed: (tables: Set<UInt32>, sequences: Set<UInt32>)
        switch ResetPlan.changedTables(try await relations(files, on: connection)) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let found): changed = found
        }
        let closure = try await foreignKeyClosure(of: changed.tables, on: connection)
        let plan: ResetPlan
        switch ResetPlan.make(closure: closure.map(\.table), sequences: changed.sequences, baseline: baseline) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let made): plan = made
        }
        let names = Dictionary(closure.map { ($0.table.oid, $0.quotedName) }, uniquingKeysWith: { first, _ in first })
        var script = "BEGIN; SET LOCAL session_replication_role = replica; SET LOCAL lock_timeout = '5s';"
        if !plan.truncate.isEmpty {
            script += " TRUNCATE ONLY " + plan.truncate.compactMap { names[$0] }.joined(separator: ", ") + ";"
        }
        if !plan.sequences.isEmpty {
            let sequences = plan.sequences.sorted { $0.key < $1.key }
            script += " SELECT setval(s.oid, s.value, s.called) FROM unnest('{\(sequences.map { String($0.key) }.joined(separator: ","))}'::oid[], "
                + "'{\(sequences.map { String($0.value.value) }.joined(separator: ","))}'::int8[], "
                + "'{\(sequences.map { $0.value.isCalled ? "t" : "f" }.joined(separator: ","))}'::bool[]) AS s(oid, value, called);"
        }
        script += " COMMIT;"
        do {
            _ = try await connection.simpleQuery(script)
        } catch let error as PGError where error.code != .connectionClosed {
            _ = try? await connection.simpleQuery("ROLLBACK")
            return .failure(ResetPlan.Refusal("the reset failed (\(error.message))"))
        }
        return .success(plan)
    }

    /// Names each changed relation file from the clone's catalog: its relation, and the table
    /// whose rows it holds (an index's table, a TOAST table's owner).
    static func relations(_ files: Set<ResetRule.RelationFile>, on connection: Connection) async throws -> [ResetPlan.Relation] {
        let sorted = files.sorted()
        let rows = try await connection.execute("""
            SELECT f.spc::int8, f.node::int8, c.oid::int8, coalesce(c.relkind::text, ''), coalesce(c.oid::regclass::text, ''),
                   t.oid::int8, t.relkind::text
            FROM unnest($1::oid[], $2::oid[]) AS f(spc, node)
            LEFT JOIN pg_class c ON c.oid = pg_filenode_relation(f.spc, f.node)
            LEFT JOIN pg_index i ON i.indexrelid = c.oid
            LEFT JOIN pg_class b ON b.oid = coalesce(i.indrelid, c.oid)
            LEFT JOIN pg_class t ON t.oid = CASE b.relkind
                WHEN 't' THEN (SELECT o.oid FROM pg_class o WHERE o.reltoastrelid = b.oid)
                WHEN 'S' THEN NULL
                ELSE b.oid END
            """, "{\(sorted.map { String($0.tablespace) }.joined(separator: ","))}",
            "{\(sorted.map { String($0.relfilenode) }.joined(separator: ","))}").rows
        return try rows.map { row in
            ResetPlan.Relation(
                file: .init(tablespace: UInt32(try row.decode(Int64.self, at: 0)), relfilenode: UInt32(try row.decode(Int64.self, at: 1))),
                oid: try row.decode(Int64?.self, at: 2).map { UInt32($0) },
                kind: try row.decode(String.self, at: 3), name: try row.decode(String.self, at: 4),
                table: try row.decode(Int64?.self, at: 5).map { UInt32($0) }, tableKind: try row.decode(String?.self, at: 6))
        }
    }

    /// `tables` and every ordinary table that references one of them by a foreign key,
    /// transitively (`TRUNCATE` refuses a referenced table without its referencing ones), with
    /// their quoted names; partitioned parents are left out (they hold no rows: their
    /// partitions, which carry the constraint too, are in the closure).
    static func foreignKeyClosure(of tables: Set<UInt32>, on connection: Connection) async throws -> [(table: ResetPlan.Table, quotedName: String)] {
        guard !tables.isEmpty else { return [] }
        let rows = try await connection.execute("""
            WITH RECURSIVE closure(oid) AS (
                SELECT unnest($1::oid[])
                UNION
                SELECT k.conrelid FROM pg_constraint k JOIN closure ON k.confrelid = closure.oid WHERE k.contype = 'f'
            )
            SELECT c.oid::int8, c.oid::regclass::text,
                   EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND (g.tgtype & 32) <> 0)
            FROM closure JOIN pg_class c ON c.oid = closure.oid
            WHERE c.relkind <> 'p'
            """, "{\(tables.sorted().map(String.init).joined(separator: ","))}").rows
        return try rows.map { row in
            let name = try row.decode(String.self, at: 1)
            return (ResetPlan.Table(oid: UInt32(try row.decode(Int64.self, at: 0)), name: name, hasTruncateTrigger: try row.decode(Bool.self, at: 2)), name)
        }
    }
}
