import Foundation
import Testing
@testable import PostgresTestKit

/// What neither audit may call a write — database administration sent over a connection to the
/// dev database, a session's own temporary tables, a runner's kept test database — each with
/// the clean twin's opposite: the write that must still be a finding. The run audit is fed a
/// hand-written log file; `pgtestkit audit`'s rules take the same entries.
@Suite("Audits: administration, temporary tables and kept test databases")
struct AuditFalseAlarmTests {
    static let dev = CommandAudit.Database(oid: 16384, name: "app", isToolkit: false)
    static let kept = CommandAudit.Database(oid: 16400, name: "test_app", isToolkit: false)

    /// The run audit's findings for `entries` (sql, database, pid), logged now into a file.
    static func runAudit(_ entries: [(String, String, Int32)]) async throws -> [LifecycleViolation] {
        let path = FileManager.default.temporaryDirectory.appending(path: "pgtestkit-unit-\(UUID().uuidString).json").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = RunLogAudit(path: path, since: Date().addingTimeInterval(-60))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        let logged = formatter.string(from: Date()) + " UTC"
        var text = ""
        for (sql, database, pid) in entries {
            let message = String(data: try JSONEncoder().encode("statement: " + sql), encoding: .utf8)!
            text += #"{"timestamp":"\#(logged)","dbname":"\#(database)","pid":\#(pid),"error_severity":"LOG","message":\#(message),"application_name":"the-app"}"# + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return await audit.scan()
    }

    static func commandAudit(_ entries: [(String, String, Int32)], before: [CommandAudit.Database] = [dev]) -> [LifecycleViolation] {
        CommandAudit(before: before).audit(entries.map { LogEntries.statement($0.0, in: $0.1, pid: $0.2) }).findings
    }

    static let administration: [(String, String, Int32)] = [
        ("CREATE DATABASE app_test_1", "app", 3),
        ("DROP DATABASE app_test_1 WITH (FORCE)", "app", 3),
        ("ALTER DATABASE app_test_2 OWNER TO app", "app", 3),
    ]

    @Test func databaseAdministrationOverAConnectionToTheDevDatabaseIsNoWrite() async throws {
        #expect(Self.commandAudit(Self.administration).isEmpty)
        #expect(try await Self.runAudit(Self.administration).isEmpty)
        let twin = Self.administration + [("INSERT INTO settings VALUES (1)", "app", 3)]   // still a write
        #expect(Self.commandAudit(twin).map(\.statement) == ["INSERT INTO settings VALUES (1)"])
        #expect(try await Self.runAudit(twin).map(\.statement) == ["INSERT INTO settings VALUES (1)"])
    }

    static let temporary: [(String, String, Int32)] = [
        ("CREATE TEMP TABLE scratch (x int)", "app", 3),
        ("INSERT INTO scratch VALUES (1)", "app", 3),
        ("UPDATE scratch SET x = 2", "app", 3),
        ("DELETE FROM ONLY scratch", "app", 3),
        ("COPY scratch FROM STDIN", "app", 3),
        ("INSERT INTO pg_temp.other VALUES (1)", "app", 3),
        ("CREATE TEMPORARY TABLE IF NOT EXISTS \"Mixed\" (x int)", "app", 4),
        ("TRUNCATE TABLE \"Mixed\"", "app", 4),
        ("DROP TABLE IF EXISTS scratch", "app", 3),
    ]

    @Test func aSessionsOwnTemporaryTablesAreNoWrite() async throws {
        #expect(Self.commandAudit(Self.temporary).isEmpty)
        #expect(try await Self.runAudit(Self.temporary).isEmpty)
    }

    /// The twins: another session's table of the same name, and the permanent one named by
    /// its schema, are the dev database's.
    @Test func aTableOfTheSameNameInAnotherSessionOrSchemaIsStillAWrite() async throws {
        let twin = Self.temporary + [
            ("INSERT INTO scratch VALUES (9)", "app", 5),
            ("INSERT INTO public.scratch VALUES (9)", "app", 3),
            ("INSERT INTO mixed VALUES (9)", "app", 4),   // unquoted: another name than "Mixed"
        ]
        let expected = ["INSERT INTO scratch VALUES (9)", "INSERT INTO public.scratch VALUES (9)", "INSERT INTO mixed VALUES (9)"]
        #expect(Self.commandAudit(twin).map(\.statement) == expected)
        #expect(try await Self.runAudit(twin).map(\.statement) == expected)
    }

    @Test func aRunnersKeptTestDatabaseIsNotTheDevelopers() {
        let writes: [(String, String, Int32)] = [("INSERT INTO orders VALUES (1)", "test_app", 3)]
        #expect(Self.commandAudit(writes, before: [Self.dev, Self.kept]).isEmpty)
        let connected = CommandAudit(before: [Self.dev, Self.kept]).audit([LogEntries.connection(to: "test_app")])
        #expect(connected.warnings.isEmpty)
        // The twin: a `test_…` database with no `…` beside it is somebody's own database.
        let lone = CommandAudit.Database(oid: 16401, name: "test_results", isToolkit: false)
        #expect(Self.commandAudit([("INSERT INTO runs VALUES (1)", "test_results", 3)], before: [Self.dev, lone]).map(\.kind) == [.writeToForeignDatabase])
    }

    @Test(arguments: [
        ("INSERT INTO a.b (x) VALUES (1)", "a", "b"), ("UPDATE ONLY t SET x = 1", nil, "t"), ("DELETE FROM \"T\" WHERE true", nil, "T"),
        ("TRUNCATE only t", nil, "t"), ("COPY s.t (x) FROM STDIN", "s", "t"), ("DROP TABLE IF EXISTS t", nil, "t"),
    ] as [(String, String?, String)])
    func theWrittenTableIsTold(sql: String, schema: String?, name: String) throws {
        let written = try #require(StatementClassifier.writtenTable(sql))
        #expect(written.schema == schema && written.name == name)
    }

    @Test(arguments: ["COPY t TO STDOUT", "TRUNCATE a, b", "DROP TABLE a, b", "SELECT 1", "DROP INDEX i"])
    func aStatementThatWritesNoSingleTableNamesNone(sql: String) {
        #expect(StatementClassifier.writtenTable(sql) == nil)
    }
}
