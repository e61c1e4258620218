/// What a reset does to one clone, decided from the relations its WAL window changed (as its
/// catalog names them) and the template's ``TemplateBaseline``: a pure value, tested without
/// a server.
///
/// Tables that are empty in the template are emptied, with every table that references them by
/// a foreign key (which `TRUNCATE` requires, and which must be empty in the template too);
/// changed sequences are set back to their template state. Small tables are emptied by
/// `DELETE`, larger ones by `TRUNCATE` (``Emptying``). A changed table
/// that has rows in the template, a system relation, a materialized view, a relation that no
/// longer exists or one with a `TRUNCATE` trigger ends in a drop: restoring rows would need a
/// copy of them somewhere in the user's database, and a drop is always right.
package struct ResetPlan: Sendable, Hashable {
    /// A changed relation file, as the clone's catalog names it.
    package struct Relation: Sendable, Hashable {
        /// The file the WAL named.
        package let file: ResetRule.RelationFile
        /// The relation's OID; `nil` when no relation has that file any more.
        package let oid: UInt32?
        /// Its `relkind` (`r` table, `i` index, `t` TOAST, `S` sequence, …).
        package let kind: String
        /// Its name, for reasons.
        package let name: String
        /// The table whose rows the file holds (the table itself, an index's table, a TOAST
        /// table's owner); `nil` for a sequence or a relation of no table.
        package let table: UInt32?
        /// That table's `relkind`.
        package let tableKind: String?

        package init(file: ResetRule.RelationFile, oid: UInt32?, kind: String, name: String, table: UInt32?, tableKind: String?) {
            self.file = file
            self.oid = oid
            self.kind = kind
            self.name = name
            self.table = table
            self.tableKind = tableKind
        }
    }

    /// A table that references (by a foreign key, directly or through others) a table to be
    /// emptied, or one of those tables itself, with what `TRUNCATE` must know of it.
    package struct Table: Sendable, Hashable {
        package let oid: UInt32
        package let name: String
        /// Whether a trigger fires on its `TRUNCATE` (which a reset must not run).
        package let hasTruncateTrigger: Bool
        /// Whether a `DELETE` of every row empties it as `TRUNCATE` would, and no test can tell:
        /// it was never analyzed and has no children, and its heap is under 10 pages — the size
        /// the planner assumes for such a table, empty or not, so plans stay those of a fresh
        /// clone; its indexes hold 4 pages each at most and its TOAST 1 MB; no row-level
        /// security filters the rows; no trigger or rule fires on `DELETE` under
        /// `session_replication_role = replica`; and the database publishes nothing (a
        /// publication could refuse a delete without a replica identity).
        package let deletable: Bool

        package init(oid: UInt32, name: String, hasTruncateTrigger: Bool, deletable: Bool = false) {
            self.oid = oid
            self.name = name
            self.hasTruncateTrigger = hasTruncateTrigger
            self.deletable = deletable
        }
    }

    /// How the tables are emptied.
    ///
    /// `TRUNCATE` makes new relation files: on a stock server (fsync on) it cost 10–12 ms for
    /// two empty tables, where a `DELETE` of their few rows cost under 1 ms. So small tables
    /// are emptied by `DELETE`; the dead rows it leaves make a table grow, and once it is no
    /// longer ``Table/deletable`` it is truncated instead, which clears them too.
    package enum Emptying: String, Sendable, Hashable {
        /// `DELETE FROM ONLY` each table: every table of the closure is ``Table/deletable``.
        case delete
        /// One `TRUNCATE ONLY` of them all.
        case truncate
    }

    /// The tables to empty, by OID.
    package let emptied: [UInt32]
    /// How they are emptied.
    package let emptying: Emptying
    /// The sequences to set back, with their template state.
    package let sequences: [UInt32: TemplateBaseline.SequenceState]

    /// The tables the changed relations hold rows of (the first step: their foreign-key
    /// closure is read next); or why the clone must be dropped.
    package static func changedTables(_ relations: [Relation]) -> Result<(tables: Set<UInt32>, sequences: Set<UInt32>), Refusal> {
        var tables: Set<UInt32> = [], sequences: Set<UInt32> = []
        for relation in relations {
            guard let oid = relation.oid else {
                return .failure(Refusal("a changed relation no longer exists (relfilenode \(relation.file.relfilenode))"))
            }
            if oid < WalRecord.firstNormalObjectID { return .failure(Refusal("the system catalog \(relation.name) changed")) }
            if relation.kind == "S" { sequences.insert(oid); continue }
            guard let table = relation.table, relation.tableKind == "r" else {
                return .failure(Refusal("\(relation.name) (relkind \(relation.tableKind ?? relation.kind)) is not an ordinary table's"))
            }
            tables.insert(table)
        }
        return .success((tables, sequences))
    }

    /// The plan, from the changed tables' foreign-key closure (`closure`: every table to be
    /// emptied and every table referencing one, transitively) and the changed sequences.
    package static func make(
        closure: [Table], sequences: Set<UInt32>, baseline: TemplateBaseline
    ) -> Result<ResetPlan, Refusal> {
        for table in closure.sorted(by: { $0.oid < $1.oid }) {
            guard baseline.emptyTables.contains(table.oid) else {
                return .failure(Refusal("the table \(table.name) has rows in the template (restoring them would need a copy in your database)"))
            }
            if table.hasTruncateTrigger { return .failure(Refusal("the table \(table.name) has a TRUNCATE trigger")) }
        }
        var states: [UInt32: TemplateBaseline.SequenceState] = [:]
        for sequence in sequences.sorted() {
            guard let state = baseline.sequences[sequence] else {
                return .failure(Refusal("a sequence (OID \(sequence)) is not in the template"))
            }
            states[sequence] = state
        }
        let emptying: Emptying = closure.allSatisfy(\.deletable) ? .delete : .truncate
        return .success(ResetPlan(emptied: closure.map(\.oid).sorted(), emptying: emptying, sequences: states))
    }

    /// Why a clone cannot be reset.
    package struct Refusal: Error, Sendable, Hashable {
        package let reason: String
        package init(_ reason: String) { self.reason = reason }
    }
}
