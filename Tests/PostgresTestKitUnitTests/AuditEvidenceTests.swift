import Testing
@testable import PostgresTestKit

/// A write that failed for want of the app's tables is evidence wherever it ran — not only in
/// the maintenance database — whether the statement was logged in full or only as the error
/// (a statement sent with parameters that fails at parse). Each with its clean twin.
@Suite("pgtestkit audit: failed writes are evidence")
struct AuditEvidenceTests {
    static let dev = CommandAudit.Database(oid: 16384, name: "app", isToolkit: false)
    let audit = CommandAudit(before: [CommandAudit.Database(oid: 5, name: "postgres", isToolkit: false), Self.dev])

    static let missingTable = "relation \"notification_types\" does not exist"

    @Test func aHooksWriteThatFailedInANewDatabaseBeforeItsSchemaIsAFinding() {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE test_app", in: "postgres", pid: 2),
            LogEntries.error("42P01", Self.missingTable, statement: "INSERT INTO notification_types (name) VALUES ($1)", in: "test_app", pid: 3),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeBeforeMigrations])
        #expect(outcome.findings.first?.sqlState == "42P01")
        #expect(outcome.findings.first?.statement == "INSERT INTO notification_types (name) VALUES ($1)")
    }

    /// The twin: once its schema exists, a failing write is a test's own business.
    @Test func aWriteThatFailsAfterTheSchemaIsNoFinding() {
        let outcome = audit.audit([
            LogEntries.statement("CREATE DATABASE test_app", in: "postgres", pid: 2),
            LogEntries.statement("CREATE TABLE orders (id int)", in: "test_app", pid: 3),
            LogEntries.error("42P01", Self.missingTable, statement: "INSERT INTO notification_types (name) VALUES ($1)", in: "test_app", pid: 3),
        ])
        #expect(outcome.findings.isEmpty)
    }

    @Test func aWriteIntoTheDevDatabaseThatFailedForWantOfItsTablesIsAFinding() {
        let outcome = audit.audit([
            LogEntries.error("42P01", Self.missingTable, statement: "UPDATE notification_types SET active = $1", in: "app", pid: 3),
        ])
        #expect(outcome.findings.map(\.kind) == [.writeToForeignDatabase])
        #expect(outcome.findings.first?.sqlState == "42P01")
    }

    /// The twins: a read that failed there, and a write that failed for another reason.
    @Test func aFailedReadOrAnotherErrorInTheDevDatabaseIsNoFinding() {
        let outcome = audit.audit([
            LogEntries.error("42P01", Self.missingTable, statement: "SELECT * FROM notification_types WHERE id = $1", in: "app", pid: 3),
            LogEntries.error("23505", "duplicate key value violates unique constraint", statement: "INSERT INTO t VALUES ($1)", in: "app", pid: 3),
        ])
        #expect(outcome.findings.isEmpty)
    }

    /// Logged in full and failed: one finding, which carries the SQLSTATE.
    @Test func aLoggedWriteThatFailedIsOneFinding() {
        let sql = "INSERT INTO notification_types (name) VALUES ('x')"
        let outcome = audit.audit([
            LogEntries.statement(sql, in: "app", pid: 3),
            LogEntries.error("42P01", Self.missingTable, statement: sql, in: "app", pid: 3),
        ])
        #expect(outcome.findings.count == 1)
        #expect(outcome.findings.first?.sqlState == "42P01")
    }
}

/// The sequences compared before and after an audited command.
@Suite("pgtestkit audit: sequences that moved")
struct AuditSequenceTests {
    static let dev = CommandAudit.Database(oid: 16384, name: "app", isToolkit: false)
    static let toolkit = CommandAudit.Database(oid: 16390, name: "pgtk_tpl_0123456789abcdef", isToolkit: true)
    let audit = CommandAudit(before: [Self.dev, Self.toolkit])

    static let before = SequenceStates(values: ["app": ["public.counter": "1", "public.orders_id_seq": "7"], "pgtk_tpl_0123456789abcdef": ["public.s": "1"]])

    @Test func aSequenceThatMovedInTheDevDatabaseIsAFinding() {
        let after = SequenceStates(values: ["app": ["public.counter": "2", "public.orders_id_seq": "7"], "pgtk_tpl_0123456789abcdef": ["public.s": "9"]])
        let outcome = audit.audit([], sequences: (Self.before, after))
        #expect(outcome.findings.map(\.statement) == ["unknown (sequence public.counter moved from 1 to 2)"])
        #expect(outcome.findings.first?.kind == .writeToForeignDatabase)
    }

    /// The twins: nothing moved; or the move is a logged INSERT's, already a finding.
    @Test func anUnmovedSequenceOrOneALoggedWriteExplainsIsNoFindingOfItsOwn() {
        #expect(audit.audit([], sequences: (Self.before, Self.before)).findings.isEmpty)
        let after = SequenceStates(values: ["app": ["public.counter": "1", "public.orders_id_seq": "8"]])
        let outcome = audit.audit([LogEntries.statement("INSERT INTO orders (total) VALUES (3)", in: "app")], sequences: (Self.before, after))
        #expect(outcome.findings.map(\.statement) == ["INSERT INTO orders (total) VALUES (3)"])
    }
}
