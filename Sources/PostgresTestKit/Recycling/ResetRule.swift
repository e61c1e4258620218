/// Which released clones a reset can bring back to their template's state, decided from the
/// WAL records of the clone's window alone: a pure value, tested without a server.
///
/// A clone whose window shows only rows written into ordinary relations (heap rows, their
/// index entries, TOAST, sequences) can be reset: those relations are named by their relation
/// files, and ``ResetPlan`` decides from the clone's catalog what the reset does. Anything
/// else ends in a drop, with the reason: relation files created (DDL, `TRUNCATE`, a rewrite,
/// an index build), catalog rows (DDL, large objects, `CREATE TEMP TABLE`), statistics
/// written by `VACUUM` or `ANALYZE`, unlogged relations, extensions' generic WAL.
package struct ResetRule: Sendable {
    /// A relation's file, as the WAL names it.
    package struct RelationFile: Sendable, Hashable, Comparable {
        /// The tablespace OID.
        package let tablespace: UInt32
        /// The relfilenode.
        package let relfilenode: UInt32

        package init(tablespace: UInt32, relfilenode: UInt32) {
            self.tablespace = tablespace
            self.relfilenode = relfilenode
        }

        package static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.tablespace, lhs.relfilenode) < (rhs.tablespace, rhs.relfilenode)
        }
    }

    /// What to do with a released clone.
    package enum Decision: Sendable, Hashable {
        /// Nothing changed: recycle it as it is.
        case unchanged
        /// Only rows of these relation files changed: reset them.
        case reset(Set<RelationFile>)
        /// Something a reset cannot undo changed: drop it, for this reason.
        case drop(String)
    }

    /// The resource managers whose records write rows or index entries into one relation.
    static let rowResourceManagers: Set<String> = ["Heap", "Heap2", "Btree", "Hash", "Gin", "Gist", "SPGist", "BRIN", "Sequence"]

    package init() {}

    /// Decides from `records`: the records of the clone's window that alter its database
    /// (``WalRecord/altersDatabase``; others are ignored here too).
    package func decide(_ records: [WalRecord]) -> Decision {
        var files: Set<RelationFile> = []
        for record in records where record.altersDatabase {
            if let reason = whyNotResettable(record) { return .drop(reason) }
            files.insert(RelationFile(tablespace: record.tablespace, relfilenode: record.relfilenode))
        }
        return files.isEmpty ? .unchanged : .reset(files)
    }

    /// Why `record` (one that alters the database) cannot be undone by a reset, or `nil`.
    func whyNotResettable(_ record: WalRecord) -> String? {
        let kind = "\(record.resourceManager)/\(record.recordType)"
        if record.change == .storage { return "a relation file was created or written whole (\(kind): DDL, TRUNCATE, a rewrite)" }
        if record.resourceManager == "Heap" && record.recordType == "INPLACE" {
            return "VACUUM or ANALYZE wrote statistics into the catalog (\(kind))"
        }
        if record.resourceManager == "Heap" && record.recordType == "TRUNCATE" { return "a table was truncated (\(kind))" }
        if record.resourceManager == "Heap2" && record.recordType == "NEW_CID" { return "catalog rows changed (\(kind))" }
        guard Self.rowResourceManagers.contains(record.resourceManager) else { return "\(kind) is not a row change a reset undoes" }
        if record.fork != "main" { return "an unlogged relation was written (\(kind), fork \(record.fork))" }
        if record.relfilenode == 0 { return "a whole-database record (\(kind))" }
        if record.relfilenode < WalRecord.firstNormalObjectID { return "catalog rows changed (\(kind): DDL, a large object or a temporary table)" }
        return nil
    }
}
