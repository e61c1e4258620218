import Testing
@testable import PostgresTestKit

/// Both audits judge a logged statement by one rule (``WriteRule``): each case runs through
/// `pgtestkit audit`'s path (``CommandAudit``) and the run audit's (``RunLogAudit``), and the
/// two must agree with each other and with the expected kind.
@Suite("WriteRule: both audits agree")
struct WriteRuleAgreementTests {
    static let toolkitDatabase = "pgtk_0123456789_3"
    static let before = [
        CommandAudit.Database(oid: 5, name: "postgres", isToolkit: false),
        CommandAudit.Database(oid: 16384, name: "app", isToolkit: false),
        CommandAudit.Database(oid: 16390, name: toolkitDatabase, isToolkit: true),
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        let entry: ServerLogEntry
        let expected: LifecycleViolation.Kind?
        var testDescription: String { "\(entry.dbname ?? "?"): \(entry.statement ?? entry.message ?? "") → \(expected?.rawValue ?? "nothing")" }
    }

    static let missing = "relation \"t\" does not exist"
    static let cases: [Case] = [
        Case(entry: LogEntries.statement("INSERT INTO t VALUES (1)", in: "postgres"), expected: .writeToMaintenanceDatabase),
        Case(entry: LogEntries.statement("INSERT INTO t VALUES (1)", in: "app"), expected: .writeToForeignDatabase),
        Case(entry: LogEntries.statement("INSERT INTO t VALUES (1)", in: toolkitDatabase), expected: nil),
        Case(entry: LogEntries.statement("CREATE DATABASE app_test_7", in: "app"), expected: nil),
        Case(entry: LogEntries.statement("DROP DATABASE app_test_7 WITH (FORCE)", in: "postgres"), expected: nil),
        Case(entry: LogEntries.statement("GRANT SELECT ON t TO reader", in: "postgres"), expected: nil),
        Case(entry: LogEntries.statement("CREATE TEMP TABLE s (x int)", in: "app"), expected: nil),
        Case(entry: LogEntries.statement("INSERT INTO pg_temp.s VALUES (1)", in: "app"), expected: nil),
        Case(entry: LogEntries.statement("CREATE TABLE notes (id int)", in: "app"), expected: .writeToForeignDatabase),
        Case(entry: LogEntries.error("42P01", missing, statement: "INSERT INTO t VALUES ($1)", in: "app"), expected: .writeToForeignDatabase),
        Case(entry: LogEntries.error("42P01", missing, statement: "SELECT * FROM t", in: "postgres"), expected: .appQueryInMaintenanceDatabase),
        Case(entry: LogEntries.error("42703", "column \"x\" does not exist", statement: nil, in: "template1"), expected: .appQueryInMaintenanceDatabase),
        Case(entry: LogEntries.error("42P01", missing, statement: "SELECT * FROM t", in: "app"), expected: nil),
        Case(entry: LogEntries.error("23505", "duplicate key", statement: "INSERT INTO t VALUES ($1)", in: "postgres"), expected: nil),
        Case(entry: LogEntries.error("42P01", missing, statement: "INSERT INTO t VALUES ($1)", in: toolkitDatabase), expected: nil),
    ]

    @Test(arguments: cases)
    func bothAuditsJudgeAlike(_ testCase: Case) {
        let command = CommandAudit(before: Self.before).audit([testCase.entry]).findings.map(\.kind)
        let candidate = RunLogAudit.finding(in: testCase.entry, createdByToolkit: [Self.toolkitDatabase])
        let run = RunLogAudit.confirmed(candidate.map { [$0] } ?? [], existing: Self.before).map(\.kind)
        #expect(command == run, "pgtestkit audit: \(command), the run audit: \(run)")
        #expect(command == (testCase.expected.map { [$0] } ?? []))
    }
}
