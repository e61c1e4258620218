/// What every clone of a template holds before its first test, as far as a reset needs it:
/// which ordinary tables are empty, and each sequence's state. Read when the template is
/// built, once nothing else is connected to it, and kept in its marker, so that every pool
/// of it, in every process, can reset from its first released clone (a pool that adopts all
/// its clones never makes a fresh one). A template built before the marker carried it is
/// read from a pool's first fresh clone instead. A template never changes, so it holds for
/// every clone of it.
package struct TemplateBaseline: Sendable, Hashable, Codable {
    /// A sequence's state: what `setval(seq, value, isCalled)` restores.
    package struct SequenceState: Sendable, Hashable {
        /// `last_value`, or the start value when `nextval` was never called.
        package let value: Int64
        /// Whether `nextval` was called (the next one returns `value` + increment), or not
        /// (it returns `value`).
        package let isCalled: Bool

        package init(value: Int64, isCalled: Bool) {
            self.value = value
            self.isCalled = isCalled
        }
    }

    /// A small table's rows in the template, as a reset puts them back.
    package struct TableRows: Sendable, Hashable, Codable {
        /// The columns a reset inserts, quoted, comma-separated (no generated column).
        package let columns: String
        /// What a reset selects for them from each row `r` of ``json``: each column's text
        /// cast back to its type (`(r->>'name')::type`), through the type's own input.
        package let values: String
        /// The rows, a JSON array of objects of each column's text output, in their order in
        /// the table.
        package let json: String

        package init(columns: String, values: String, json: String) {
            self.columns = columns
            self.values = values
            self.json = json
        }
    }

    /// The OIDs of the ordinary tables (and partitions) whose main fork is empty in the
    /// template: nothing was ever written into them, so `TRUNCATE` restores them exactly.
    package let emptyTables: Set<UInt32>
    /// Every sequence's state, by OID.
    package let sequences: [UInt32: SequenceState]
    /// The rows of the small tables a reset can put back (``read(on:)`` says which), by OID.
    package let rows: [UInt32: TableRows]

    package init(emptyTables: Set<UInt32>, sequences: [UInt32: SequenceState], rows: [UInt32: TableRows] = [:]) {
        self.emptyTables = emptyTables
        self.sequences = sequences
        self.rows = rows
    }

    /// The most row text a baseline carries in all (it travels in the template's marker);
    /// tables past it end in a drop when a test changes them.
    static let rowsLimit = 65_536

    private enum CodingKeys: String, CodingKey {
        case emptyTables = "empty", sequences, rows
    }

    private struct KeyedRows: Codable {
        let oid: UInt32
        let columns: String
        let values: String
        let json: String
    }

    /// The marker's form: the empty tables' OIDs, sorted, and each sequence as
    /// `[oid, value, 1 when called else 0]`, sorted by OID: short, and the same text for the
    /// same baseline.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(emptyTables.sorted(), forKey: .emptyTables)
        try container.encode(sequences.sorted { $0.key < $1.key }.map { [Int64($0.key), $0.value.value, $0.value.isCalled ? 1 : 0] },
                             forKey: .sequences)
        if !rows.isEmpty {
            try container.encode(rows.sorted { $0.key < $1.key }.map { KeyedRows(oid: $0.key, columns: $0.value.columns, values: $0.value.values, json: $0.value.json) },
                                 forKey: .rows)
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        emptyTables = Set(try container.decode([UInt32].self, forKey: .emptyTables))
        var sequences: [UInt32: SequenceState] = [:]
        for entry in try container.decode([[Int64]].self, forKey: .sequences) {
            guard entry.count == 3, let oid = UInt32(exactly: entry[0]), entry[2] == 0 || entry[2] == 1 else {
                throw DecodingError.dataCorruptedError(forKey: .sequences, in: container,
                                                       debugDescription: "a sequence is [oid, value, 0 or 1], not \(entry)")
            }
            sequences[oid] = SequenceState(value: entry[1], isCalled: entry[2] == 1)
        }
        self.sequences = sequences
        // Rows in a form this version does not read (a template built by another) are no
        // rows: its tables with rows end in a drop, and the marker stays the toolkit's.
        let keyed = (try? container.decodeIfPresent([KeyedRows].self, forKey: .rows)) ?? []
        rows = Dictionary(keyed.map { ($0.oid, TableRows(columns: $0.columns, values: $0.values, json: $0.json)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads the baseline on a connection to a template that nothing else is connected to,
    /// or to a clone no test has used yet. Reads only: no row, lock or WAL record is left
    /// behind.
    static func read(on connection: Connection) async throws -> TemplateBaseline {
        let tables = try await connection.execute("""
            SELECT c.oid::int8 FROM pg_class c
            WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND c.oid >= 16384 AND pg_relation_size(c.oid) = 0
            """).rows.map { try $0.decode(Int64.self, at: 0) }
        let sequences = try await connection.execute("""
            SELECT s.seqrelid::int8, pg_sequence_last_value(s.seqrelid), s.seqstart FROM pg_sequence s
            """).rows.map { row -> (UInt32, SequenceState) in
                let last = try row.decode(Int64?.self, at: 1)
                let start = try row.decode(Int64.self, at: 2)
                return (UInt32(try row.decode(Int64.self, at: 0)), SequenceState(value: last ?? start, isCalled: last != nil))
            }
        return TemplateBaseline(emptyTables: Set(tables.map { UInt32($0) }), sequences: Dictionary(sequences, uniquingKeysWith: { first, _ in first }),
                                rows: try await readRows(on: connection))
    }

    /// The rows of the small tables a reset can put back exactly: ordinary tables with rows
    /// that were never vacuumed or analyzed (`relpages` 0), whose heap is under 8 pages and
    /// whose TOAST is empty. The planner takes any such table for 10 pages, so the table
    /// emptied and its rows inserted again, in the same order, plans and reads as the
    /// template's. Up to ``rowsLimit`` of row text in all, smallest tables first.
    ///
    /// Each value travels as its type's text output (in a JSON object per row), and is read
    /// back by its type's input — as `pg_dump` does: array bounds, `json` and `jsonb`,
    /// floats, `money`, `bytea` and intervals come back as they were. Both run under
    /// ``rowsSettings`` (for the read's transaction only: the connection may be a test's
    /// next), and with an empty `search_path`, so that type names and `reg*` values are
    /// written in full. A table that cannot be read (a privilege, row security) is skipped.
    static func readRows(on connection: Connection) async throws -> [UInt32: TableRows] {
        try await connection.simpleQuery("BEGIN READ ONLY; \(rowsSettings)")
        do {
            let rows = try await readRows(inTransactionOn: connection)
            try await connection.simpleQuery("COMMIT")
            return rows
        } catch {
            _ = try? await connection.simpleQuery("ROLLBACK")
            throw error
        }
    }

    /// The settings rows are written and read back under, whatever the server's or a
    /// connect hook's: the same text for the same value.
    static let rowsSettings = "SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'; SET LOCAL DateStyle = 'ISO, MDY'; "
        + "SET LOCAL IntervalStyle = 'postgres'; SET LOCAL lc_monetary = 'C';"

    private static func readRows(inTransactionOn connection: Connection) async throws -> [UInt32: TableRows] {
        // Every row, or an error (the table is skipped); type names and `reg*` values in full.
        try await connection.simpleQuery("SET LOCAL row_security = off; SET LOCAL search_path = ''")
        let candidates = try await connection.execute("""
            SELECT c.oid::int8, c.oid::regclass::text, k.columns, k.keys, k.texts, k.values
            FROM pg_class c, LATERAL (
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS columns,
                       string_agg(quote_literal(a.attname), ', ' ORDER BY a.attnum) AS keys,
                       string_agg('t.' || quote_ident(a.attname) || '::text', ', ' ORDER BY a.attnum) AS texts,
                       string_agg('(r->>' || quote_literal(a.attname) || ')::' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) AS values
                FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ) k
            WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND c.oid >= 16384 AND c.relpages = 0 AND c.reltuples < 0
              AND NOT c.relhassubclass AND pg_relation_size(c.oid) BETWEEN 1 AND 7 * current_setting('block_size')::int8
              AND (c.reltoastrelid = 0 OR pg_relation_size(c.reltoastrelid) = 0) AND k.columns IS NOT NULL
            ORDER BY pg_relation_size(c.oid), c.oid
            """).rows
        var rows: [UInt32: TableRows] = [:]
        var budget = rowsLimit
        for candidate in candidates {
            let oid = UInt32(try candidate.decode(Int64.self, at: 0))
            let (name, columns, keys, texts, values) = (try candidate.decode(String.self, at: 1), try candidate.decode(String.self, at: 2),
                                                         try candidate.decode(String.self, at: 3), try candidate.decode(String.self, at: 4),
                                                         try candidate.decode(String.self, at: 5))
            let json: String?
            do {
                try await connection.simpleQuery("SAVEPOINT pgtk_rows")
                json = try await connection.scalar(
                    "SELECT json_agg(json_object(ARRAY[\(keys)], ARRAY[\(texts)]) ORDER BY t.ctid)::text FROM ONLY \(name) t", as: String?.self)
                try await connection.simpleQuery("RELEASE SAVEPOINT pgtk_rows")
            } catch let error as PGError where error.code != .connectionClosed {
                try await connection.simpleQuery("ROLLBACK TO SAVEPOINT pgtk_rows")
                continue
            }
            guard let json, json.utf8.count <= budget else { continue }
            budget -= json.utf8.count
            rows[oid] = TableRows(columns: columns, values: values, json: json)
        }
        return rows
    }
}
