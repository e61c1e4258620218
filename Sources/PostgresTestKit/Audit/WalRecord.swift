/// WAL records of one kind that touched one relation, as ``WalWitness`` reads them from
/// `pg_get_wal_records_info` (grouped on the server: resource manager, record type, relation),
/// and the rules that tell a persistent change from what reads and maintenance leave behind.
///
/// The relation comes from `block_ref` (`blkref #0: rel <tablespace>/<database oid>/<relfilenode>
/// fork main blk 0`); for `Storage` records, which carry no block reference, from the
/// description (`base/<database oid>/<relfilenode>`), and for `RelMap` from its
/// `database <oid>`. Database OID 0 is the shared catalogs (`pg_database`, roles, …): no
/// database's.
package struct WalRecord: Sendable, Hashable {
    /// The resource manager (`Heap`, `Btree`, `XLOG`, …).
    package let resourceManager: String
    /// The record type, without the `+INIT` suffix (`INSERT`, `FPI_FOR_HINT`, …).
    package let recordType: String
    /// The tablespace OID (0 when unknown).
    package let tablespace: UInt32
    /// The database OID (0: the shared catalogs).
    package let database: UInt32
    /// The relfilenode (0 for a whole-database record such as `RelMap`).
    package let relfilenode: UInt32
    /// The fork written: `main`, `init` (unlogged relations), `fsm`, `vm`.
    package let fork: String
    /// How many such records.
    package let count: Int
    /// Where the last of them starts (when read from the server): a reader of one range can
    /// tell which groups reach past a later mark.
    package var lastLSN: WalLSN?

    /// A group of records; a `+INIT` suffix on `recordType` (the page was initialised) is dropped.
    package init(
        resourceManager: String, recordType: String, tablespace: UInt32, database: UInt32, relfilenode: UInt32,
        fork: String = "main", count: Int
    ) {
        self.resourceManager = resourceManager
        self.recordType = recordType.hasSuffix("+INIT") ? String(recordType.dropLast("+INIT".count)) : recordType
        self.tablespace = tablespace
        self.database = database
        self.relfilenode = relfilenode
        self.fork = fork
        self.count = count
    }

    /// The first OID initdb does not use: relfilenodes below it are the system catalogs'
    /// (until a `VACUUM FULL` of a catalog gives it a new one; names resolve those).
    package static let firstNormalObjectID: UInt32 = 16384

    /// Whether the records leave a database other than it was, for a clone to be recycled:
    /// every ``change``, and also `Heap/INPLACE` — the statistics VACUUM and ANALYZE write
    /// into `pg_class` (relpages, reltuples), which shape the next test's query plans. Reads
    /// leave only what ``change`` already ignores (hint-bit page images, pruning, row locks,
    /// visibility-map and free-space-map pages).
    package var altersDatabase: Bool {
        change != nil || (resourceManager == "Heap" && recordType == "INPLACE")
    }

    /// What the records did, if it is a change: `nil` for what a read, a row lock or
    /// maintenance also produces. The rules, by resource manager (PostgreSQL 15 to 18 names):
    package var change: WalChange.Effect? {
        // The free space map and visibility map forks are hints vacuum keeps (VACUUM's
        // truncation logs their pages whole): whatever writes them, no data is there.
        if fork == "fsm" || fork == "vm" { return nil }
        switch resourceManager {
        case "Heap":
            switch recordType {
            // Row versions written: INSERT, UPDATE, DELETE (also through a function called
            // from SELECT, DO, CALL or a writing CTE), TRUNCATE (logged for logical decoding),
            // CONFIRM (INSERT … ON CONFLICT's speculative insertion completed).
            case "INSERT", "UPDATE", "HOT_UPDATE", "DELETE", "TRUNCATE", "CONFIRM": return .rows
            // LOCK: a row lock (SELECT … FOR UPDATE/SHARE, foreign-key checks) — no data changes.
            // INPLACE: an in-place catalog update (relpages/reltuples, relhasindex,
            // datfrozenxid) written by VACUUM and ANALYZE; the DDL that also does one writes
            // other records too. Neither is a change.
            default: return nil
            }
        case "Heap2":
            switch recordType {
            // MULTI_INSERT: COPY FROM and batched catalog inserts (rows written).
            case "MULTI_INSERT": return .rows
            // NEW_CID: catalog rows changed (logged at wal_level = logical, beside the change).
            case "NEW_CID": return .rows
            // PRUNE (PRUNE_ON_ACCESS, PRUNE_VACUUM_SCAN, PRUNE_VACUUM_CLEANUP from 17): a read
            // or VACUUM tidying a page; VACUUM, FREEZE_PAGE, VISIBLE: vacuum; LOCK_UPDATED: a
            // row lock; REWRITE: a logical rewrite mapping (VACUUM FULL). Not changes.
            default: return nil
            }
        case "Btree":
            switch recordType {
            // Index entries written (by an insert or an update): inserts, splits, a new root,
            // deduplication of a full leaf page on insert.
            case "INSERT_LEAF", "INSERT_UPPER", "INSERT_META", "INSERT_POST", "SPLIT_L", "SPLIT_R", "NEWROOT", "DEDUP":
                return .rows
            // DELETE (dead entries removed to make room, always beside an insert), VACUUM,
            // page deletion and reuse, META_CLEANUP: vacuum and housekeeping.
            default: return nil
            }
        case "Hash":
            switch recordType {
            // Entries inserted; buckets split; an index built (its meta and bitmap pages).
            case "INSERT", "ADD_OVFL_PAGE", "SPLIT_ALLOCATE_PAGE", "SPLIT_PAGE", "SPLIT_COMPLETE",
                 "INIT_META_PAGE", "INIT_BITMAP_PAGE":
                return .rows
            // DELETE, SPLIT_CLEANUP, SQUEEZE_PAGE, MOVE_PAGE_CONTENTS, UPDATE_META_PAGE,
            // VACUUM_ONE_PAGE: vacuum and cleanup.
            default: return nil
            }
        case "Gin":
            switch recordType {
            // Entries inserted (directly or into the pending list), pages split, a posting tree made.
            case "CREATE_PTREE", "INSERT", "SPLIT", "INSERT_LISTPAGE", "UPDATE_META_PAGE": return .rows
            // VACUUM_PAGE, VACUUM_DATA_LEAF_PAGE, DELETE_PAGE, DELETE_LISTPAGE: vacuum and cleanup.
            default: return nil
            }
        case "Gist":
            switch recordType {
            // Entries inserted or updated; pages split.
            case "PAGE_UPDATE", "PAGE_SPLIT": return .rows
            // DELETE (dead entries), PAGE_DELETE, PAGE_REUSE, ASSIGN_LSN: vacuum and housekeeping.
            default: return nil
            }
        case "SPGist":
            switch recordType {
            // Leaf tuples added or moved, inner tuples added or split.
            case "ADD_LEAF", "MOVE_LEAFS", "ADD_NODE", "SPLIT_TUPLE", "PICKSPLIT": return .rows
            // VACUUM_LEAF, VACUUM_ROOT, VACUUM_REDIRECT: vacuum.
            default: return nil
            }
        case "BRIN":
            switch recordType {
            // Ranges summarised or updated by inserts; an index built.
            case "INSERT", "UPDATE", "SAMEPAGE_UPDATE", "REVMAP_EXTEND", "CREATE_INDEX": return .rows
            // DESUMMARIZE: brin_desummarize_range(), maintenance.
            default: return nil
            }
        // Sequence LOG: nextval (every 32 values, and the first after a checkpoint), setval,
        // CREATE/ALTER SEQUENCE. A change.
        case "Sequence": return .rows
        // Generic WAL (extensions' index access methods such as bloom): a page changed.
        case "Generic": return .rows
        case "Storage":
            switch recordType {
            // CREATE: a relation's file created (CREATE TABLE/INDEX/SEQUENCE, TRUNCATE — which
            // gives the table a new file —, a rewriting ALTER TABLE, VACUUM FULL): DDL.
            case "CREATE": return .storage
            // TRUNCATE: VACUUM cutting empty pages off a table's end (and a TRUNCATE of a table
            // created in the same transaction, whose CREATE is the change). Not a change.
            default: return nil
            }
        // RelMap UPDATE: a mapped catalog got a new file (VACUUM FULL of pg_class, a new database's map).
        case "RelMap": return .storage
        case "XLOG":
            switch recordType {
            // FPI: a page logged whole by an index build, a table copy (SET TABLESPACE) or
            // CREATE DATABASE … STRATEGY WAL_LOG (into the new database): storage written.
            case "FPI": return .storage
            // FPI_FOR_HINT: the first hint-bit change of a page after a checkpoint, logged when
            // data checksums (on by default from PostgreSQL 18) or wal_log_hints are on — a
            // plain SELECT right after a bulk insert does it. Checkpoints, segment switches,
            // NEXTOID, parameter changes: nobody's data. Not changes.
            default: return nil
            }
        // Standby (locks, running transactions, invalidations), Transaction (commit, abort,
        // assignment: no block references), CLOG, MultiXact, CommitTs, Database (its creation
        // and drop: the created database's business), Tablespace, ReplicationOrigin,
        // LogicalMessage: no relation of any database changes.
        default: return nil
        }
    }
}
