import Foundation
import Testing
@testable import PostgresTestKit

/// The rules of the statement-log watch while tests run, on hand-built log entries (and one
/// log file written by hand): no server.
@Suite("RunLogAudit")
struct RunLogAuditTests {
    @Test(arguments: ["postgres", "template1"])
    func aWriteIntoAMaintenanceDatabaseWhileTestsRunIsAFinding(database: String) throws {
        let entry = LogEntries.statement("INSERT INTO notification_types VALUES ('x')", in: database, pid: 42, application: "the-app")
        let finding = try #require(RunLogAudit.finding(in: entry))
        #expect(finding.kind == .writeToMaintenanceDatabase)
        #expect(finding.database == database)
        #expect(finding.statement == "INSERT INTO notification_types VALUES ('x')")
        #expect(finding.sessionPID == 42)
        #expect(finding.applicationName == "the-app")
        #expect(finding.phase == nil)
    }

    @Test func aWriteIntoADatabaseTheToolkitDidNotCreateIsAForeignDatabaseFinding() throws {
        let finding = try #require(RunLogAudit.finding(in: LogEntries.statement("UPDATE t SET x = 1", in: "app_dev")))
        #expect(finding.kind == .writeToForeignDatabase)
        #expect(finding.note?.contains("DATABASE_URL") == true)
    }

    @Test(arguments: ["pgtk_0123456789_3", "app_0a1b2c3d4e_p1", "pgtk_tpl_0123456789abcdef", "pgtk_tplb_0123456789abcdef_0123456789"])
    func writesIntoTheToolkitsOwnDatabasesGoneBeforeTheirMarkerCouldBeReadAreNotFindings(database: String) throws {
        let candidate = try #require(RunLogAudit.finding(in: LogEntries.statement("INSERT INTO t VALUES (1)", in: database)))
        #expect(RunLogAudit.confirmed([candidate], existing: []).isEmpty)    // gone by now: the name's shape decides
        #expect(RunLogAudit.confirmed([candidate], existing: nil).isEmpty)   // not looked up: the same
    }

    /// Toolkit databases are known by their owner marker, not the shape of their names: a
    /// `shop_2024061501` (ten digits, a run id's shape) without a marker is the developer's.
    @Test func theOwnerMarkerDecidesWhoseADatabaseIs() throws {
        let shop = try #require(RunLogAudit.finding(in: LogEntries.statement("INSERT INTO orders VALUES (1)", in: "shop_2024061501")))
        let scratch = try #require(RunLogAudit.finding(in: LogEntries.statement("INSERT INTO t VALUES (1)", in: "scratch")))
        let existing = [
            CommandAudit.Database(oid: 16_400, name: "shop_2024061501", isToolkit: false),
            CommandAudit.Database(oid: 16_401, name: "scratch", isToolkit: true),
        ]
        let kept = RunLogAudit.confirmed([shop, scratch], existing: existing)
        #expect(kept.map(\.database) == ["shop_2024061501"])
        #expect(RunLogAudit.confirmed([scratch], existing: []).map(\.database) == ["scratch"])   // gone, and not the toolkit's shape
    }

    @Test func theWALsChangesInAForeignDatabaseAreOneFindingPerTableNotAlreadyLogged() {
        let dev = CommandAudit.Database(oid: 16_500, name: "app_dev", isToolkit: false)
        func change(_ node: UInt32, _ table: String, _ kind: String) -> WalChange {
            var change = WalChange(database: dev.oid, tablespace: 1663, relfilenode: node, effect: .rows, records: [kind: 2])
            change.relation = table
            change.table = table
            return change
        }
        let changes = [change(16_601, "public.notes", "Heap/INSERT"), change(16_602, "public.audit_trail", "Heap/UPDATE")]
        let findings = RunWalAudit.findings(in: dev, changes: changes, logged: ["INSERT INTO notes (body) VALUES ('x')"])
        #expect(findings.count == 1)   // notes: the statement log already reported it
        #expect(findings.first?.kind == .writeToForeignDatabase)
        #expect(findings.first?.statement?.contains("Heap/UPDATE ×2 on relation 16602 (public.audit_trail)") == true)
        let postgres = CommandAudit.Database(oid: 5, name: "postgres", isToolkit: false)
        let inPostgres = RunWalAudit.findings(in: postgres, changes: [change(16_700, "public.app_table", "Heap/INSERT")], logged: [])
        #expect(inPostgres.map(\.kind) == [.writeToMaintenanceDatabase])
    }

    @Test func theToolkitsOwnSessionsAreNotFindings() {
        #expect(RunLogAudit.finding(in: LogEntries.statement("INSERT INTO t VALUES (1)", in: "postgres", application: "pgtestkit-admin:0123456789")) == nil)
    }

    @Test(arguments: ["CREATE DATABASE x TEMPLATE y", "DROP DATABASE x WITH (FORCE)", "COMMENT ON DATABASE x IS 'pgtestkit {}'", "GRANT CONNECT ON DATABASE x TO app", "CREATE TEMP TABLE t (x int)"])
    func administrationInTheMaintenanceDatabaseIsNotAFinding(sql: String) {
        #expect(RunLogAudit.finding(in: LogEntries.statement(sql, in: "postgres")) == nil)
    }

    /// Errors are evidence: the article's hook on the connection to `postgres` (the dev
    /// database absent) fails for want of its table, and no statement log shows a write.
    @Test(arguments: ["42P01", "42703", "42883", "3F000"])
    func aStatementThatFailedInPostgresForWantOfTheAppsTablesIsAFinding(state: String) throws {
        let entry = LogEntries.error(state, "relation \"notification_types\" does not exist", statement: "SELECT * FROM notification_types FOR UPDATE", in: "postgres")
        let finding = try #require(RunLogAudit.finding(in: entry))
        #expect(finding.kind == .appQueryInMaintenanceDatabase)
        #expect(finding.sqlState == SQLState(rawValue: state))
        #expect(finding.statement == "SELECT * FROM notification_types FOR UPDATE")
    }

    /// Its clean twins: the same error in the app's own database, another error in
    /// `postgres`, and the toolkit's own session.
    @Test func otherFailedStatementsAreNotFindings() {
        #expect(RunLogAudit.finding(in: LogEntries.error("42P01", "relation \"t\" does not exist", statement: "SELECT * FROM t", in: "app_dev")) == nil)
        #expect(RunLogAudit.finding(in: LogEntries.error("42601", "syntax error", statement: "SELEC 1", in: "postgres")) == nil)
        var toolkit = LogEntries.error("42P01", "relation \"t\" does not exist", statement: "SELECT * FROM t", in: "postgres")
        toolkit = LogEntries.entry("postgres", message: toolkit.message, application: "pgtestkit-admin:0123456789", severity: "ERROR", state: "42P01", statement: "SELECT * FROM t")
        #expect(RunLogAudit.finding(in: toolkit) == nil)
    }

    @Test func entriesThatAreNoLoggedStatementOrHaveNoDatabaseAreNotFindings() {
        #expect(RunLogAudit.finding(in: LogEntries.connection(to: "app_dev")) == nil)
        #expect(RunLogAudit.finding(in: LogEntries.entry(nil, message: "statement: INSERT INTO t VALUES (1)")) == nil)
        #expect(RunLogAudit.finding(in: LogEntries.entry("", message: "statement: INSERT INTO t VALUES (1)")) == nil)
    }

    @Test func toolkitDatabasesAreKnownByARunIDOrATemplateFingerprintInTheirName() {
        #expect(RunLogAudit.looksLikeToolkitDatabase("pgtk_0123456789_1"))
        #expect(RunLogAudit.looksLikeToolkitDatabase("pgtk_tpl_0123456789abcdef"))
        #expect(RunLogAudit.looksLikeToolkitDatabase("x_tplb_y"))
        #expect(!RunLogAudit.looksLikeToolkitDatabase("app_dev"))
        #expect(!RunLogAudit.looksLikeToolkitDatabase("app_tpl_notahexfingerprint"))
        #expect(!RunLogAudit.looksLikeToolkitDatabase("pgtk_012345678_1"))   // nine hex digits: no run id
    }

    @Test func theServersUTCTimestampsParseToTheMillisecond() throws {
        let parsed = try #require(RunLogAudit.parse("2026-11-24 15:34:09.461 UTC"))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let expected = try #require(formatter.date(from: "2026-11-24T15:34:09.461Z"))
        #expect(abs(parsed.timeIntervalSince(expected)) < 0.000_5)
        #expect(RunLogAudit.parse("2026-11-24 16:34:09.461 CET") == nil)
        #expect(RunLogAudit.parse("yesterday UTC") == nil)
    }

    /// A log file written by hand stands in for the server's: the finding names the tests
    /// whose databases were in use when the write was logged.
    @Test func aFindingNamesTheTestsWhoseDatabasesWereInUse() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "pgtestkit-unit-\(UUID().uuidString).json").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = RunLogAudit.shared(logFile: path)
        #expect(RunLogAudit.shared(logFile: path) === audit)
        audit.began("pgtk_0123456789_placesorder")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        let logged = formatter.string(from: Date().addingTimeInterval(1)) + " UTC"
        let line = #"{"timestamp":"\#(logged)","dbname":"app_dev","pid":7,"error_severity":"LOG","message":"statement: INSERT INTO t VALUES (1)","application_name":"the-app"}"# + "\n"
        let handle = try FileHandle(forWritingTo: URL(filePath: path))
        try handle.write(contentsOf: Data(line.utf8))
        try handle.close()
        let findings = await audit.scan()
        #expect(findings.count == 1)
        #expect(findings.first?.kind == .writeToForeignDatabase)
        #expect(findings.first?.note?.contains("these tests' databases were in use: pgtk_0123456789_placesorder") == true)
        #expect(await audit.scan().isEmpty)   // each read starts where the last ended
    }
}
