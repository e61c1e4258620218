import Testing
@testable import PostgresTestKit

/// The rule that maps a clone's WAL window to "unchanged", "reset these relation files" or
/// "drop", without a server.
@Suite("ResetRule")
struct ResetRuleTests {
    static func record(_ manager: String, _ type: String, node: UInt32 = 16400, fork: String = "main") -> WalRecord {
        WalRecord(resourceManager: manager, recordType: type, tablespace: 1663, database: 16384, relfilenode: node, fork: fork, count: 1)
    }

    static func file(_ node: UInt32) -> ResetRule.RelationFile { .init(tablespace: 1663, relfilenode: node) }

    @Test func noRecordsOrOnlyReadsLeaveTheCloneUnchanged() {
        #expect(ResetRule().decide([]) == .unchanged)
        #expect(ResetRule().decide([Self.record("Heap2", "PRUNE_ON_ACCESS"), Self.record("XLOG", "FPI_FOR_HINT"),
                                    Self.record("Heap", "LOCK"), Self.record("Standby", "RUNNING_XACTS")]) == .unchanged)
    }

    @Test func rowsIndexEntriesAndSequencesOfUserRelationsAreReset() {
        let records = [
            Self.record("Heap", "INSERT", node: 16400), Self.record("Heap", "UPDATE", node: 16400), Self.record("Heap", "DELETE", node: 16400),
            Self.record("Btree", "INSERT_LEAF", node: 16402), Self.record("Heap2", "MULTI_INSERT", node: 16410),
            Self.record("Sequence", "LOG", node: 16398), Self.record("Heap", "CONFIRM", node: 16420), Self.record("Gin", "INSERT", node: 16430),
        ]
        #expect(ResetRule().decide(records) == .reset([Self.file(16400), Self.file(16402), Self.file(16410), Self.file(16398), Self.file(16420), Self.file(16430)]))
    }

    @Test(arguments: [
        (ResetRuleTests.record("Storage", "CREATE"), "relation file was created"),       // DDL, TRUNCATE, a rewrite
        (ResetRuleTests.record("RelMap", "UPDATE", node: 0), "relation file was created"),
        (ResetRuleTests.record("XLOG", "FPI"), "relation file was created"),             // an index build
        (ResetRuleTests.record("Heap", "INPLACE", node: 1259), "statistics"),            // VACUUM or ANALYZE
        (ResetRuleTests.record("Heap", "INSERT", node: 2613), "catalog"),                // a large object (pg_largeobject)
        (ResetRuleTests.record("Heap", "INSERT", node: 1259), "catalog"),                // CREATE TABLE's pg_class row
        (ResetRuleTests.record("Heap2", "NEW_CID"), "catalog"),
        (ResetRuleTests.record("Heap", "TRUNCATE"), "truncated"),
        (ResetRuleTests.record("Heap", "INSERT", fork: "init"), "unlogged"),
        (ResetRuleTests.record("Generic", "Generic"), "not a row change"),               // an extension's index
    ])
    func whatAResetCannotUndoEndsInADrop(record: WalRecord, reason: String) {
        guard case .drop(let why) = ResetRule().decide([Self.record("Heap", "INSERT"), record]) else {
            Issue.record("\(record.resourceManager)/\(record.recordType) must end in a drop")
            return
        }
        #expect(why.contains(reason), "\(why)")
    }

    @Test func oneRecordThatCannotBeUndoneDropsTheWholeClone() {
        let records = [Self.record("Heap", "INSERT"), Self.record("Btree", "INSERT_LEAF", node: 16402), Self.record("Storage", "CREATE", node: 16500)]
        guard case .drop = ResetRule().decide(records) else { Issue.record("a CREATE among row changes must drop"); return }
    }
}

/// What a reset does, from the changed relations and the template's baseline, without a server.
@Suite("ResetPlan")
struct ResetPlanTests {
    static let file = ResetRule.RelationFile(tablespace: 1663, relfilenode: 16400)
    static let baseline = TemplateBaseline(
        emptyTables: [16390, 16395, 16500],
        sequences: [16388: .init(value: 1, isCalled: false), 16398: .init(value: 3, isCalled: true)])

    static func relation(_ oid: UInt32?, kind: String, table: UInt32?, tableKind: String?) -> ResetPlan.Relation {
        .init(file: file, oid: oid, kind: kind, name: "r\(oid ?? 0)", table: table, tableKind: tableKind)
    }

    @Test func indexesAndToastCountAsTheirTableSequencesAsThemselves() throws {
        let relations = [
            Self.relation(16390, kind: "r", table: 16390, tableKind: "r"),
            Self.relation(16392, kind: "i", table: 16390, tableKind: "r"),   // its primary key
            Self.relation(16393, kind: "t", table: 16395, tableKind: "r"),   // another table's TOAST
            Self.relation(16388, kind: "S", table: nil, tableKind: nil),
        ]
        let changed = try ResetPlan.changedTables(relations).get()
        #expect(changed.tables == [16390, 16395])
        #expect(changed.sequences == [16388])
    }

    @Test(arguments: [
        (ResetPlanTests.relation(nil, kind: "", table: nil, tableKind: nil), "no longer exists"),
        (ResetPlanTests.relation(2613, kind: "r", table: 2613, tableKind: "r"), "system catalog"),
        (ResetPlanTests.relation(16600, kind: "m", table: 16600, tableKind: "m"), "not an ordinary table"),   // a materialized view
        (ResetPlanTests.relation(16601, kind: "i", table: 16600, tableKind: "m"), "not an ordinary table"),
    ])
    func relationsAResetCannotRestoreAreRefused(relation: ResetPlan.Relation, reason: String) {
        guard case .failure(let refusal) = ResetPlan.changedTables([relation]) else {
            Issue.record("\(relation) must be refused")
            return
        }
        #expect(refusal.reason.contains(reason), "\(refusal.reason)")
    }

    @Test func tablesEmptyInTheTemplateAreTruncatedAndSequencesSetBack() throws {
        let closure = [ResetPlan.Table(oid: 16395, name: "orders", hasTruncateTrigger: false),
                       ResetPlan.Table(oid: 16390, name: "customers", hasTruncateTrigger: false)]
        let plan = try ResetPlan.make(closure: closure, sequences: [16398], baseline: Self.baseline).get()
        #expect(plan.emptied == [16390, 16395])
        #expect(plan.sequences == [16398: .init(value: 3, isCalled: true)])
    }

    /// Small tables are emptied by DELETE (cheap on a stock server); one table that is not
    /// deletable (large, row-level security, a DELETE trigger or rule that fires anyway)
    /// makes the whole closure truncated, and the script says which.
    @Test func smallTablesAreDeletedAndOneLargeOneMakesItATruncate() throws {
        let small = [ResetPlan.Table(oid: 16395, name: "orders", hasTruncateTrigger: false, deletable: true),
                     ResetPlan.Table(oid: 16390, name: "customers", hasTruncateTrigger: false, deletable: true)]
        let deleted = try ResetPlan.make(closure: small, sequences: [], baseline: Self.baseline).get()
        #expect(deleted.emptying == .delete)
        let names: [UInt32: String] = [16390: "customers", 16395: "orders"]
        let script = CloneReset.script(deleted, names: names, alongside: "")
        #expect(script.contains("DELETE FROM ONLY customers; DELETE FROM ONLY orders;") && !script.contains("TRUNCATE"), "\(script)")
        #expect(script.contains("session_replication_role = replica"), "no trigger, rule or foreign-key action fires")

        let oneLarge = [small[0], ResetPlan.Table(oid: 16390, name: "customers", hasTruncateTrigger: false, deletable: false)]
        let truncated = try ResetPlan.make(closure: oneLarge, sequences: [], baseline: Self.baseline).get()
        #expect(truncated.emptying == .truncate)
        let truncating = CloneReset.script(truncated, names: names, alongside: "")
        #expect(truncating.contains("TRUNCATE ONLY customers, orders;") && !truncating.contains("DELETE"), "\(truncating)")
    }

    /// A small table with rows in the template is truncated and its rows put back, from the
    /// baseline, when the clone's catalog says that is exact; a table whose rows the baseline
    /// does not carry, or one where putting them back would fire a trigger, is refused.
    @Test func aTableWithRowsTheBaselineCarriesIsPutBack() throws {
        let rows = TemplateBaseline.TableRows(columns: "code, name", values: "(r->>'code')::text, (r->>'name')::text",
                                              json: #"[{"code":"fr","name":"it's $pgtk$ $pgtk1$ $pgtk2$"}]"#)
        let baseline = TemplateBaseline(emptyTables: [16390], sequences: [:], rows: [16450: rows])
        let closure = [ResetPlan.Table(oid: 16450, name: "countries", hasTruncateTrigger: false, deletable: true, restorable: true),
                       ResetPlan.Table(oid: 16390, name: "customers", hasTruncateTrigger: false, deletable: true)]
        let plan = try ResetPlan.make(closure: closure, sequences: [], baseline: baseline).get()
        #expect(plan.restored == [16450: rows])
        #expect(plan.emptying == .truncate, "rows put back go into new files, in their order")
        let script = CloneReset.script(plan, names: [16390: "customers", 16450: "countries"], alongside: "")
        #expect(script.contains("TRUNCATE ONLY customers, countries;"), "\(script)")
        // The rows hold the first three dollar tags: the reset quotes with one they do not hold.
        #expect(script.contains(#"INSERT INTO countries (code, name) OVERRIDING SYSTEM VALUE SELECT (r->>'code')::text, (r->>'name')::text FROM json_array_elements($pgtk3$[{"code":"fr","name":"it's $pgtk$ $pgtk1$ $pgtk2$"}]$pgtk3$) WITH ORDINALITY AS e(r, n) ORDER BY n;"#), "\(script)")
        #expect(script.range(of: "TRUNCATE")!.lowerBound < script.range(of: "INSERT")!.lowerBound)
        // Read back under the settings they were written under, whatever a server or PGOPTIONS says.
        #expect(script.contains(TemplateBaseline.rowsSettings) && TemplateBaseline.rowsSettings.contains("IntervalStyle = 'postgres'"))

        let firing = [ResetPlan.Table(oid: 16450, name: "countries", hasTruncateTrigger: false, deletable: true, restorable: false)]
        guard case .failure(let refusal) = ResetPlan.make(closure: firing, sequences: [], baseline: baseline) else {
            Issue.record("rows whose putting back fires a trigger must not be put back")
            return
        }
        #expect(refusal.reason.contains("countries has rows in the template, and was vacuumed or analyzed since, or a trigger or rule"))
        guard case .failure(let missing) = ResetPlan.make(closure: closure, sequences: [], baseline: Self.baseline) else {
            Issue.record("rows the baseline does not carry cannot be put back")
            return
        }
        #expect(missing.reason.contains("countries has rows in the template that a reset does not put back"))
    }

    @Test func aTableWithRowsInTheTemplateEndsInADrop() {
        let closure = [ResetPlan.Table(oid: 16390, name: "customers", hasTruncateTrigger: false),
                       ResetPlan.Table(oid: 16450, name: "countries", hasTruncateTrigger: false)]   // not empty in the template
        guard case .failure(let refusal) = ResetPlan.make(closure: closure, sequences: [], baseline: Self.baseline) else {
            Issue.record("a table with rows in the template must not be truncated")
            return
        }
        #expect(refusal.reason.contains("countries has rows in the template"))
    }

    @Test func aReferencingTableWithRowsInTheTemplateEndsInADrop() {
        // customers changed; invoices (rows in the template) references it: TRUNCATE would need it too.
        let closure = [ResetPlan.Table(oid: 16390, name: "customers", hasTruncateTrigger: false),
                       ResetPlan.Table(oid: 16460, name: "invoices", hasTruncateTrigger: false)]
        guard case .failure(let refusal) = ResetPlan.make(closure: closure, sequences: [], baseline: Self.baseline) else {
            Issue.record("a referencing table with template rows must not be truncated")
            return
        }
        #expect(refusal.reason.contains("invoices"))
    }

    @Test func aTruncateTriggerOrAnUnknownSequenceEndsInADrop() {
        let triggered = [ResetPlan.Table(oid: 16500, name: "audited", hasTruncateTrigger: true)]
        guard case .failure(let trigger) = ResetPlan.make(closure: triggered, sequences: [], baseline: Self.baseline) else {
            Issue.record("a TRUNCATE trigger must not fire in a reset")
            return
        }
        #expect(trigger.reason.contains("TRUNCATE trigger"))
        guard case .failure(let sequence) = ResetPlan.make(closure: [], sequences: [17000], baseline: Self.baseline) else {
            Issue.record("a sequence the template lacks cannot be set back")
            return
        }
        #expect(sequence.reason.contains("not in the template"))
    }

    @Test func onlySequencesChangedIsASequenceOnlyReset() throws {
        let plan = try ResetPlan.make(closure: [], sequences: [16388], baseline: Self.baseline).get()
        #expect(plan.emptied.isEmpty)
        #expect(plan.sequences == [16388: .init(value: 1, isCalled: false)])
    }
}
