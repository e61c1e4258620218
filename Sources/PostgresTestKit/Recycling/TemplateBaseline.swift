/// What every clone of a template holds before its first test, as far as a reset needs it:
/// which ordinary tables are empty, and each sequence's state. Read once per pool from a
/// fresh clone (before any hook or test reached it); a template never changes, so it holds
/// for every clone of it.
package struct TemplateBaseline: Sendable, Hashable {
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

    /// Reads the baseline on a connection to a clone no test has used yet. Reads only: no
    /// row, lock or WAL record is left behind.
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
