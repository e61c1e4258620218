import Testing
@testable import PostgresTestKit

/// `pgtestkit audit`'s rules, on hand-built log entries and WAL changes: no server.
@Suite("CommandAudit")
struct CommandAuditTests {
    static let postgres = CommandAudit.Database(oid: 5, name: "postgres", isToolkit: false)
    static let dev = CommandAudit.Database(oid: 16384, name: "app_dev", isToolkit: false)
    static let template = CommandAudit.Database(oid: 16390, name: "pgtk_tpl_0123456789abcdef", isToolkit: true)
    let audit = CommandAudit(before: [Self.postgres, Self.dev, Self.template])

    static func change(_ relfilenode: UInt32, in database: UInt32, table: String?, records: [String: Int] = ["Heap/INSERT": 1]) -> WalChange {
        var change = WalChange(database: database, tablespace: 1663, relfilenode: relfilenode, effect: .rows, records: records)
        change.relation = table
        change.table = table
        return change
    }

    @Test func aWriteIntoAMaintenanceDatabaseIsAFinding() {
        let outcome = audit.audit([LogEntries.statement("INSERT INTO notification_types VALUES ('x')", in: "postgres", pid: 9)])
        #expect(outcome.findings.map(\.kind) == [.writeToMaintenanceDatabase])
        #expect(outcome.findings.first?.sessionPID == 9)
        #expect(outcome.warnings.isEmpty)
    }

    @Test func aTestRunnersDatabaseAdministrationInTheMaintenanceDatabaseIsNot() {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE test_app", in: "postgres"),
            LogEntries.statement("COMMENT ON DATABASE test_app IS 'mine'", in: "postgres"),
            LogEntries.statement("GRANT ALL ON DATABASE test_app TO app", in: "postgres"),
            LogEntries.statement("DROP DATABASE test_app", in: "postgres"),
        ])
        #expect(outcome.findings.isEmpty)
    }

    @Test func aWriteIntoADatabaseThatExistedBeforeIsAFindingAndConnectingToItAWarningOnce() {
        let outcome = audit.audit([
            LogEntries.connection(to: "app_dev", pid: 3, application: "manage.py"),
            LogEntries.connection(to: "app_dev", pid: 4),
            LogEntries.statement("UPDATE settings SET value = 1", in: "app_dev", pid: 3),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeToForeignDatabase])
        #expect(outcome.warnings.map(\.kind) == [.connectionToForeignDatabase])
        #expect(outcome.warnings.first?.applicationName == "manage.py")
    }

    @Test func underStrictConnectionsToAPreExistingDatabaseFailTheRunToo() {
        let outcome = CommandAudit(before: [Self.dev], strict: true).audit([LogEntries.connection(to: "app_dev")])
        #expect(outcome.findings.map(\.kind) == [.connectionToForeignDatabase])
        #expect(outcome.warnings.isEmpty)
    }

    @Test func connectingToAMaintenanceDatabaseOrAToolkitDatabaseIsNoWarning() {
        let outcome = audit.audit([LogEntries.connection(to: "postgres"), LogEntries.connection(to: Self.template.name)])
        #expect(outcome.warnings.isEmpty)
    }

    @Test func aToolkitDatabaseThatExistedBeforeMayBeWritten() {
        let outcome = audit.audit([LogEntries.statement("UPDATE t SET x = 2", in: Self.template.name)])
        #expect(outcome.findings.isEmpty)
    }

    @Test func aWriteIntoACreatedDatabaseBeforeItsFirstSchemaDDLIsFlagged() {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE test_app", in: "postgres"),
            LogEntries.statement("INSERT INTO notification_types VALUES ('x')", in: "test_app"),
            LogEntries.statement("CREATE TABLE notes (id int)", in: "test_app"),
            LogEntries.statement("INSERT INTO notes VALUES (1)", in: "test_app"),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeBeforeMigrations])
        #expect(outcome.findings.first?.phase == .connecting)
        #expect(outcome.findings.first?.statement == "INSERT INTO notification_types VALUES ('x')")
    }

    @Test func aCloneOfAMigratedTemplateIsBornMigrated() {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE clone_1 TEMPLATE pgtk_tpl_0123456789abcdef", in: "postgres"),
            LogEntries.statement("INSERT INTO notes VALUES (1)", in: "clone_1"),
        ])
        #expect(outcome.findings.isEmpty)
    }

    @Test(arguments: ["template0", "template1"])
    func aDatabaseCreatedFromAnEmptyTemplateIsNotBornMigrated(template: String) {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE fresh TEMPLATE \(template)", in: "postgres"),
            LogEntries.statement("INSERT INTO notes VALUES (1)", in: "fresh"),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeBeforeMigrations])
    }

    @Test func aPreExistingNameTheCommandCreatedAnewIsTheCommandsOwn() {
        let outcome = audit.audit([
            LogEntries.statement("DROP DATABASE app_dev", in: "postgres"),
            LogEntries.statement("CREATE DATABASE app_dev", in: "postgres"),
            LogEntries.connection(to: "app_dev"),
            LogEntries.statement("CREATE TABLE notes (id int)", in: "app_dev"),
            LogEntries.statement("INSERT INTO notes VALUES (1)", in: "app_dev"),
        ])
        #expect(outcome.findings.isEmpty)
        #expect(outcome.warnings.isEmpty)
    }

    @Test func aCreateDatabaseThatFailedBecauseItExistedLeavesThePreExistingDatabaseTheDevelopers() {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE app_dev", in: "postgres", pid: 2),
            LogEntries.error("42P04", "database \"app_dev\" already exists", statement: "CREATE DATABASE app_dev", in: "postgres", pid: 2),
            LogEntries.statement("INSERT INTO notes VALUES (1)", in: "app_dev"),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeToForeignDatabase])
    }

    @Test func aMultiStatementStringIsJudgedStatementByStatement() {
        let outcome = audit.audit([LogEntries.statement("SELECT 1; SET x = 1; UPDATE t SET x = 3", in: "app_dev")])
        #expect(outcome.findings.map(\.statement) == ["UPDATE t SET x = 3"])
    }

    @Test(arguments: ["42P01", "42703", "42883", "3F000"])
    func aStatementThatFailedInPostgresForWantOfTheAppsObjectsIsFlagged(state: String) {
        let outcome = audit.audit([LogEntries.error(state, "relation \"notes\" does not exist", statement: "SELECT * FROM notes", in: "postgres", pid: 7)])
        #expect(outcome.findings.map(\.kind) == [.appQueryInMaintenanceDatabase])
        #expect(outcome.findings.first?.sqlState == SQLState(rawValue: state))
        #expect(outcome.findings.first?.statement == "SELECT * FROM notes")
        #expect(outcome.findings.first?.note?.contains("connection_created") == true)
    }

    @Test func otherErrorsAndMissingObjectsOutsideTheMaintenanceDatabasesAreNotFindings() {
        let outcome = audit.audit([
            LogEntries.error("23505", "duplicate key value", statement: "INSERT INTO t VALUES (1)", in: "postgres"),
            LogEntries.error("42P01", "relation \"notes\" does not exist", statement: "SELECT * FROM notes", in: "app_dev"),
        ])
        #expect(outcome.findings.isEmpty)
    }

    @Test func aLoggedWriteThatFailedForWantOfATableIsOneFindingNotTwo() {
        let outcome = audit.audit([
            LogEntries.statement("INSERT INTO missing VALUES (1)", in: "postgres", pid: 8),
            LogEntries.error("42P01", "relation \"missing\" does not exist", statement: "INSERT INTO missing VALUES (1)", in: "postgres", pid: 8),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeToMaintenanceDatabase])
        #expect(outcome.findings.first?.sqlState == "42P01")
    }

    @Test func theWALConfirmsALoggedWriteOnTheTableItNames() {
        let outcome = audit.audit(
            [LogEntries.statement("UPDATE t SET x = 3", in: "app_dev")],
            wal: [16384: [Self.change(16401, in: 16384, table: "public.t", records: ["Heap/HOT_UPDATE": 1])]])
        #expect(outcome.findings.count == 1)
        #expect(outcome.findings.first?.note?.contains("the WAL confirms: Heap/HOT_UPDATE on relation 16401 (public.t)") == true)
    }

    @Test func aWALChangeNoLoggedWriteExplainsIsAFindingOfItsOwnPerTable() {
        let outcome = audit.audit(
            [LogEntries.connection(to: "app_dev", pid: 11, application: "worker")],
            wal: [16384: [Self.change(16400, in: 16384, table: "public.notes"), Self.change(16402, in: 16384, table: "public.notes")]])
        #expect(outcome.findings.count == 1)
        let finding = outcome.findings.first
        #expect(finding?.kind == .writeToForeignDatabase)
        #expect(finding?.statement?.hasPrefix("unknown (seen in the WAL: Heap/INSERT on relation 16400 (public.notes); ") == true)
        #expect(finding?.sessionPID == 11)              // the one session connected to it
        #expect(finding?.applicationName == "worker")
    }

    @Test func aWALChangeInAMaintenanceDatabaseIsAMaintenanceFinding() {
        let outcome = audit.audit([], wal: [5: [Self.change(16500, in: 5, table: "public.seen")]])
        #expect(outcome.findings.map(\.kind) == [.writeToMaintenanceDatabase])
        #expect(outcome.findings.first?.note?.contains("no session of the command logged a connection") == true)
    }

    @Test func aRelationGoneByTheEndIsTakenAsALoggedWritesOwn() {
        let outcome = audit.audit(
            [LogEntries.statement("CREATE TABLE scratch (x int)", in: "postgres")],
            wal: [5: [Self.change(16600, in: 5, table: nil)]])
        #expect(outcome.findings.count == 1)
        #expect(outcome.findings.first?.note?.contains("the WAL also shows") == true)
    }

    @Test func walChangesInToolkitDatabasesAndSystemCatalogsAreNotFindings() {
        let outcome = audit.audit([], wal: [
            16390: [Self.change(16500, in: 16390, table: "public.notes")],
            5: [Self.change(2619, in: 5, table: "pg_catalog.pg_statistic")],
        ])
        #expect(outcome.findings.isEmpty)
    }

    @Test func aStatementNamesATableByItsBareNameAsAWord() {
        #expect(CommandAudit.statement("UPDATE notes SET x = 1", names: "public.notes"))
        #expect(CommandAudit.statement("insert into Notes values (1)", names: #""public"."Notes""#))
        #expect(!CommandAudit.statement("UPDATE notes_archive SET x = 1", names: "public.notes"))
        #expect(!CommandAudit.statement(nil, names: "public.notes"))
    }
}
