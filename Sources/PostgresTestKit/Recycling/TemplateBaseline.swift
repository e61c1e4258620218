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

    /// The OIDs of the ordinary tables (and partitions) whose main fork is empty in the
    /// template: nothing was ever written into them, so `TRUNCATE` restores them exactly.
    package let emptyTables: Set<UInt32>
    /// Every sequence's state, by OID.
    package let sequences: [UInt32: SequenceState]

    package init(emptyTables: Set<UInt32>, sequences: [UInt32: SequenceState]) {
        self.emptyTables = emptyTables
        self.sequences = sequences
    }

    private enum CodingKeys: String, CodingKey {
        case emptyTables = "empty", sequences
    }

    /// The marker's form: the empty tables' OIDs, sorted, and each sequence as
    /// `[oid, value, 1 when called else 0]`, sorted by OID: short, and the same text for the
    /// same baseline.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(emptyTables.sorted(), forKey: .emptyTables)
        try container.encode(sequences.sorted { $0.key < $1.key }.map { [Int64($0.key), $0.value.value, $0.value.isCalled ? 1 : 0] },
                             forKey: .sequences)
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
        return TemplateBaseline(emptyTables: Set(tables.map { UInt32($0) }), sequences: Dictionary(sequences, uniquingKeysWith: { first, _ in first }))
    }
}
