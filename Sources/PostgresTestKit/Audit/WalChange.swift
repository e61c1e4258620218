/// The persistent changes the WAL shows on one relation of one database between two marks,
/// as ``WalWitness/changes(from:to:)`` returns them.
package struct WalChange: Sendable, Hashable, CustomStringConvertible {
    /// What a change did.
    package enum Effect: String, Sendable, Hashable {
        /// Rows or index entries written (heap, index, sequence records).
        case rows
        /// Relation files created, truncated or written whole (DDL, index builds, copies).
        case storage
    }

    /// The database OID.
    package let database: UInt32
    /// The tablespace OID (0: the database's default, when only a `Storage` record named it).
    package var tablespace: UInt32
    /// The relfilenode written (0 for a whole-database record such as `RelMap`).
    package let relfilenode: UInt32
    /// What the records did (``Effect/rows`` when any of them wrote rows).
    package var effect: Effect
    /// `resource manager/record type` → number of records (`Heap/INSERT: 3`).
    package var records: [String: Int]
    /// The relation's schema-qualified name, when ``WalWitness/resolveNames(of:in:)`` found it.
    package var relation: String?
    /// The table it belongs to: itself, an index's table, a TOAST table's, an owned sequence's.
    package var table: String?
    /// Whether the relation is a system catalog (by its OID, or by the relfilenode when it
    /// could not be resolved). Catalog changes alone are DDL, `GRANT`, `ANALYZE`, temporary
    /// tables: the statement log judges them.
    package var isCatalog: Bool

    /// A change without a resolved name.
    package init(database: UInt32, tablespace: UInt32, relfilenode: UInt32, effect: Effect, records: [String: Int]) {
        self.database = database
        self.tablespace = tablespace
        self.relfilenode = relfilenode
        self.effect = effect
        self.records = records
        self.isCatalog = relfilenode < WalRecord.firstNormalObjectID   // a relation map (0) is the catalogs' too
    }

    /// Whether it changed application data or storage (not only catalog rows).
    package var isDataChange: Bool { !isCatalog }

    /// `Heap/INSERT ×2, Btree/INSERT_LEAF ×2 on relation 16393 (public.notes)`.
    package var description: String {
        let kinds = records.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { $0.value == 1 ? $0.key : "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let target = relfilenode == 0 ? "the database's relation map" : "relation \(relfilenode)"
        var name = ""
        if let relation {
            name = relation
            if let table, table != relation { name += " of \(table)" }
            name = " (\(name))"
        } else if relfilenode != 0 {
            name = " (no longer there: dropped or rewritten since)"
        }
        return "\(kinds) on \(target)\(name)"
    }

    /// Folds grouped records into changes, one per database and relation, keeping only those
    /// the rules of ``WalRecord/change`` count.
    package static func changes(from records: [WalRecord]) -> [WalChange] {
        // Keyed by database and relfilenode: Storage records name no tablespace (0 there).
        var byRelation: [[UInt32]: WalChange] = [:]
        for record in records {
            // Database 0 is the shared catalogs (roles, pg_database, comments on databases).
            guard record.database != 0, let effect = record.change else { continue }
            let key = [record.database, record.relfilenode]
            let kind = "\(record.resourceManager)/\(record.recordType)"
            if var existing = byRelation[key] {
                existing.records[kind, default: 0] += record.count
                if effect == .rows { existing.effect = .rows }
                if existing.tablespace == 0 { existing.tablespace = record.tablespace }
                byRelation[key] = existing
            } else {
                byRelation[key] = WalChange(
                    database: record.database, tablespace: record.tablespace, relfilenode: record.relfilenode,
                    effect: effect, records: [kind: record.count])
            }
        }
        return byRelation.values.sorted { ($0.database, $0.relfilenode) < ($1.database, $1.relfilenode) }
    }

    /// `existing` with `more` added (same database): records of the same relation summed.
    package static func merging(_ existing: [WalChange], _ more: [WalChange]) -> [WalChange] {
        var merged = existing
        for change in more {
            guard let index = merged.firstIndex(where: { $0.database == change.database && $0.relfilenode == change.relfilenode }) else {
                merged.append(change)
                continue
            }
            merged[index].records.merge(change.records, uniquingKeysWith: +)
            if change.effect == .rows { merged[index].effect = .rows }
            if merged[index].tablespace == 0 { merged[index].tablespace = change.tablespace }
        }
        return merged
    }
}
