import Foundation
import Testing
@testable import PostgresTestKit

/// `pgtestkit report`: the JSON reports of two processes merged into one summary and one picture.
@Suite("pgtestkit report")
struct ReportCommandTests {
    static func report(process: Int32, database: String, test: String, at offset: Double, finding: Bool) -> RunReport.Snapshot {
        let t0 = Date().timelineMilliseconds
        var snapshot = RunReport.Snapshot()
        var row = TimelineRow(kind: .test, database: database, test: test, suite: "ReportSuite", process: process, outcome: .dropped)
        row.spans = [TimelineSpan(.create, start: t0 + offset, end: t0 + offset + 40), TimelineSpan(.test, start: t0 + offset + 40, end: t0 + offset + 200)]
        _ = snapshot.timeline.open(row)
        snapshot.databasesCreated = 1
        snapshot.databasesDropped = 1
        snapshot.timeline.postgresVersion = "15.12"
        if finding {
            snapshot.violations = [LifecycleViolation(kind: .writeInConnectHook, phase: .connecting, database: database,
                                                      statement: "INSERT INTO t VALUES (1)", time: Date(timelineMilliseconds: t0 + offset + 20))]
        }
        return snapshot
    }

    @Test func twoProcessesReportsMakeOneSummaryAndOnePicture() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestSupport.uniquePrefix("pgtk-report-"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b, html) = (directory.appendingPathComponent("a.json").path, directory.appendingPathComponent("b.json").path,
                            directory.appendingPathComponent("timeline.html").path)
        try RunReport(Self.report(process: 101, database: "pgtk_reporta_1", test: "first()", at: 0, finding: true)).writeJSON(to: a)
        try RunReport(Self.report(process: 202, database: "pgtk_reportb_1", test: "second()", at: 300, finding: false)).writeJSON(to: b)

        let result = try await Subprocess.run(TestSupport.cli, ["report", "--html", html, a, b])
        #expect(result.succeeded, "\(result.output)")
        #expect(result.output.contains("PostgresTestKit summary: 2 test databases"))
        #expect(result.output.contains("2 dropped"))
        #expect(result.output.contains("write_in_connect_hook in database pgtk_reporta_1"))
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("2 processes"))
        #expect(page.components(separatedBy: "<g class=\"r\"").count - 1 == 2)
        #expect(page.components(separatedBy: "<g class=\"f\"").count - 1 == 1)
        #expect(page.contains("pgtk_reporta_1") && page.contains("pgtk_reportb_1"))
    }

    @Test func aFileThatIsNotAReportIsNamedInTheError() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(TestSupport.uniquePrefix("pgtk-notareport-") + ".json").path
        try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await Subprocess.run(TestSupport.cli, ["report", path])
        #expect(!result.succeeded)
        #expect(result.output.contains(path))
        #expect(result.output.contains("not a PostgresTestKit JSON report"))
        let none = try await Subprocess.run(TestSupport.cli, ["report"])
        #expect(!none.succeeded)
        #expect(none.output.contains("<report.json>"))
    }
}
