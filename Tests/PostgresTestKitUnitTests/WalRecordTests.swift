import Testing
@testable import PostgresTestKit

/// The rules that tell a persistent change from what reads and maintenance leave in the WAL.
@Suite("WalRecord")
struct WalRecordTests {
    static func record(_ manager: String, _ type: String, fork: String = "main") -> WalRecord {
        WalRecord(resourceManager: manager, recordType: type, tablespace: 1663, database: 16384, relfilenode: 16400, fork: fork, count: 1)
    }

    @Test func aPlusInitSuffixIsDropped() {
        #expect(Self.record("Heap", "INSERT+INIT").recordType == "INSERT")
        #expect(Self.record("Heap2", "MULTI_INSERT+INIT").change == .rows)
    }

    @Test(arguments: [
        ("Heap", "INSERT"), ("Heap", "UPDATE"), ("Heap", "HOT_UPDATE"), ("Heap", "DELETE"), ("Heap", "TRUNCATE"), ("Heap", "CONFIRM"),
        ("Heap2", "MULTI_INSERT"), ("Heap2", "NEW_CID"), ("Btree", "INSERT_LEAF"), ("Btree", "SPLIT_R"), ("Btree", "NEWROOT"),
        ("Btree", "DEDUP"), ("Hash", "INSERT"), ("Hash", "SPLIT_PAGE"), ("Gin", "INSERT"), ("Gin", "INSERT_LISTPAGE"),
        ("Gist", "PAGE_UPDATE"), ("SPGist", "ADD_LEAF"), ("BRIN", "SAMEPAGE_UPDATE"), ("Sequence", "LOG"), ("Generic", "Generic"),
    ])
    func rowsAndIndexEntriesWrittenAreRowChanges(manager: String, type: String) {
        #expect(Self.record(manager, type).change == .rows)
        #expect(Self.record(manager, type).altersDatabase)
    }

    @Test(arguments: [("Storage", "CREATE"), ("RelMap", "UPDATE"), ("XLOG", "FPI")])
    func filesCreatedOrPagesWrittenWholeAreStorageChanges(manager: String, type: String) {
        #expect(Self.record(manager, type).change == .storage)
        #expect(Self.record(manager, type).altersDatabase)
    }

    @Test(arguments: [
        ("Heap", "LOCK"), ("Heap2", "PRUNE"), ("Heap2", "PRUNE_ON_ACCESS"), ("Heap2", "PRUNE_VACUUM_SCAN"), ("Heap2", "VACUUM"),
        ("Heap2", "FREEZE_PAGE"), ("Heap2", "VISIBLE"), ("Heap2", "LOCK_UPDATED"), ("Heap2", "REWRITE"), ("Btree", "DELETE"),
        ("Btree", "VACUUM"), ("Btree", "META_CLEANUP"), ("Hash", "VACUUM_ONE_PAGE"), ("Gin", "VACUUM_PAGE"), ("Gist", "DELETE"),
        ("SPGist", "VACUUM_LEAF"), ("BRIN", "DESUMMARIZE"), ("Storage", "TRUNCATE"), ("XLOG", "FPI_FOR_HINT"), ("XLOG", "CHECKPOINT_ONLINE"),
        ("Standby", "RUNNING_XACTS"), ("Transaction", "COMMIT"), ("Database", "CREATE_WAL_LOG"), ("CLOG", "ZEROPAGE"), ("SomethingNew", "INSERT"),
    ])
    func whatReadsRowLocksAndMaintenanceWriteIsNoChange(manager: String, type: String) {
        #expect(Self.record(manager, type).change == nil)
        #expect(!Self.record(manager, type).altersDatabase)
    }

    @Test(arguments: ["fsm", "vm"])
    func theFreeSpaceAndVisibilityMapForksAreNeverChanges(fork: String) {
        #expect(Self.record("Heap", "INSERT", fork: fork).change == nil)
        #expect(Self.record("XLOG", "FPI", fork: fork).change == nil)
        #expect(!Self.record("XLOG", "FPI", fork: fork).altersDatabase)
    }

    @Test func anUnloggedTablesInitForkIsStillAChange() {
        #expect(Self.record("XLOG", "FPI", fork: "init").change == .storage)
    }

    /// VACUUM and ANALYZE's statistics in `pg_class` are no change for the audit, but they
    /// shape the next test's plans: a clone that has them is not recycled.
    @Test func anInPlaceCatalogUpdateAltersTheDatabaseWithoutBeingAChange() {
        #expect(Self.record("Heap", "INPLACE").change == nil)
        #expect(Self.record("Heap", "INPLACE").altersDatabase)
        #expect(!Self.record("Heap2", "INPLACE").altersDatabase)
    }
}
