/// What a reset does to one clone, decided from the relations its WAL window changed (as its
/// catalog names them) and the template's ``TemplateBaseline``: a pure value, tested without
/// a server.
///
/// Tables that are empty in the template are emptied, with every table that references them by
/// a foreign key (which `TRUNCATE` requires, and which must be empty in the template too);
/// changed sequences are set back to their template state. Small tables are emptied by
/// `DELETE`, larger ones by `TRUNCATE` (``Emptying``). A small table with rows in the
/// template is truncated and its rows put back from the baseline, which carries them
/// (``TemplateBaseline/readRows(on:)``: nothing of the toolkit's is kept in the user's
/// database). A changed table whose template rows the baseline does not carry, a system
/// relation, a materialized view, a relation that no longer exists or one with a `TRUNCATE`
/// trigger ends in a drop, which is always right.
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
        /// Whether its template rows can be put back as they were (when the baseline carries
        /// them): it was never vacuumed or analyzed in the clone either, and no trigger or rule
        /// fires on `INSERT` under `session_replication_role = replica`.
        package let restorable: Bool

        package init(oid: UInt32, name: String, hasTruncateTrigger: Bool, deletable: Bool = false, restorable: Bool = false) {
            self.oid = oid
            self.name = name
            self.hasTruncateTrigger = hasTruncateTrigger
            self.deletable = deletable
            self.restorable = restorable
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
    /// The emptied tables whose template rows are put back, with those rows.
    package let restored: [UInt32: TemplateBaseline.TableRows]

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
        var restored: [UInt32: TemplateBaseline.TableRows] = [:]
        for table in closure.sorted(by: { $0.oid < $1.oid }) {
            if !baseline.emptyTables.contains(table.oid) {
                guard let rows = baseline.rows[table.oid] else {
                    return .failure(Refusal("the table \(table.name) has rows in the template that a reset does not put back (more than 7 pages, vacuumed or analyzed, or past the baseline's 64 kB)"))
                }
                guard table.restorable else {
                    return .failure(Refusal("the table \(table.name) has rows in the template, and was vacuumed or analyzed since, or a trigger or rule would fire on putting them back"))
                }
                restored[table.oid] = rows
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
        // Rows put back go into new files, in their template order, as the template's were
        // written: behind a DELETE's dead rows, a pruned page could take them out of order.
        let emptying: Emptying = restored.isEmpty && closure.allSatisfy(\.deletable) ? .delete : .truncate
        return .success(ResetPlan(emptied: closure.map(\.oid).sorted(), emptying: emptying, sequences: states, restored: restored))
    }

    /// Why a clone cannot be reset.
    package struct Refusal: Error, Sendable, Hashable {
        package let reason: String
        package init(_ reason: String) { self.reason = reason }
    }
}
