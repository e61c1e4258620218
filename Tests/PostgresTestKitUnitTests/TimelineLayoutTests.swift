import Foundation
import Testing
@testable import PostgresTestKit

/// The timeline's layout (rows, scale, ticks, grouping, markers) and its HTML, without a
/// browser or a server.
@Suite("Timeline layout")
struct TimelineLayoutTests {
    typealias S = TimelineSamples

    static let small: RunReport.Snapshot = S.report([
        S.row("b()", suite: "Orders", database: "pgtk_r_2", [(.poolLease, 100, 101), (.test, 101, 600), (.verdict, 610, 640)], outcome: .recycled),
        S.row("a()", suite: "Orders", database: "pgtk_r_1", [(.preparation, 0, 50), (.create, 50, 90), (.test, 90, 400), (.drop, 410, 450)]),
        S.row("c()", suite: "Billing", database: "pgtk_r_3", [(.create, 20, 60), (.test, 60, 1000)]),
    ], findings: [S.finding("pgtk_r_3", at: 500), S.finding("postgres", at: 700, kind: .writeToMaintenanceDatabase)])

    @Test func everyRowGetsOneLayoutRowGroupedBySuiteInOrderOfStart() {
        let layout = TimelineLayout(TimelineDocument(reports: [Self.small]))
        #expect(layout.groups.map(\.title) == ["Orders", "Billing", "Other databases the findings name"])
        #expect(layout.groups[0].rows.map(\.label) == ["a()", "b()"])
        #expect(layout.groups[0].rows.map(\.y) == [0, 14])
        #expect(layout.groups[0].height == 28)
        #expect(layout.groups[0].extent == 0...640)
        #expect(layout.groups[1].extent == 20...1000)
        #expect(layout.groups[2].rows.map(\.database) == ["postgres"])
        #expect(layout.rows.count == 4)
    }

    @Test func theScaleMapsTheFirstStartToTheAxisStartAndTheLastEndToItsEnd() {
        var options = TimelineLayout.Options()
        options.plotWidth = 500
        options.labelWidth = 100
        let layout = TimelineLayout(TimelineDocument(reports: [Self.small]), options: options)
        #expect(layout.origin == S.t0)
        #expect(layout.duration == 1000)
        #expect(layout.x(at: S.t0) == 100)
        #expect(layout.x(at: S.t0 + 1000) == 600)
        let c = try! #require(layout.rows.first { $0.label == "c()" })
        #expect(c.bars.map(\.phase) == [.create, .test])
        #expect(c.bars[1].x == 100 + 60 * 0.5)
        #expect(c.bars[1].width == 940 * 0.5)
    }

    @Test func ticksAreRoundStepsFromZeroToTheEnd() {
        let layout = TimelineLayout(TimelineDocument(reports: [Self.small]))
        #expect(layout.tickStep == 200)
        #expect(layout.ticks.map(\.label) == ["0", "200 ms", "400 ms", "600 ms", "800 ms", "1 s"])
        #expect(TimelineLayout.tickStep(for: 60_000) == 10_000)
        #expect(TimelineLayout.tickStep(for: 7) == 1)
        #expect(TimelineLayout.label(milliseconds: 1500) == "1.5 s")
        #expect(TimelineLayout.label(milliseconds: 150_000) == "2.5 min")
        #expect(TimelineLayout.label(milliseconds: 0.25) == "0.25 ms")
        #expect(TimelineLayout.label(milliseconds: 967.54) == "968 ms")
        #expect(TimelineLayout.label(from: 967.54, to: 2900) == "0.97–2.9 s")
        #expect(TimelineLayout.label(from: 12.2, to: 480) == "12–480 ms")
        #expect(RunTimeline.versionName(150012) == "15.12")
        #expect(RunTimeline.versionName(90624) == "9.6.24")
    }

    @Test func aFindingIsAMarkerOnItsDatabasesRowAtItsTimeAndOneWithoutARowGetsARowOfItsOwn() {
        let layout = TimelineLayout(TimelineDocument(reports: [Self.small]))
        let c = try! #require(layout.rows.first { $0.database == "pgtk_r_3" })
        #expect(c.markers.count == 1)
        #expect(c.markers[0].x == layout.x(at: S.t0 + 500))
        let other = try! #require(layout.rows.first { $0.database == "postgres" })
        #expect(other.kind == .other)
        #expect(other.markers.map(\.finding) == [1])
        #expect(layout.groups.map(\.findingCount) == [0, 1, 1])
    }

    @Test func aFindingOutsideItsRowsTimeIsDrawnAtTheRowsNearestEnd() {
        // A merged report's dates are whole seconds: the marker stays on its row's bars.
        let report = S.report([S.row("a()", suite: nil, database: "db1", [(.test, 100, 200)])],
                              findings: [S.finding("db1", at: 50)])
        let layout = TimelineLayout(TimelineDocument(reports: [report]))
        #expect(layout.rows.count == 1)
        #expect(layout.rows[0].markers.first?.x == layout.x(at: S.t0 + 100))
        #expect(layout.groups[0].title == "Tests without a suite")
    }

    /// A manager's preparation before the tests started has a row, in a group of its own
    /// before the template builds and the suites.
    @Test func aPreparationBeforeTheTestsIsARowOfItsOwnFirst() {
        var prepared = TimelineRow(kind: .preparation, test: "notifications", process: 42)
        prepared.spans = [TimelineSpan(.preparation, start: S.t0, end: S.t0 + 80)]
        let report = S.report([S.row("a()", suite: "S", database: "db", [(.poolLease, 90, 91), (.test, 91, 200)]), prepared])
        let layout = TimelineLayout(TimelineDocument(reports: [report]))
        #expect(layout.groups.map(\.title) == ["Prepared before the tests started", "S"])
        #expect(layout.groups[0].rows.first?.label == "prepared notifications")
        #expect(layout.groups[0].rows.first?.bars.map(\.phase) == [.preparation])
    }

    @Test func aRecycledNameGoesToTheRowThatHadItAtTheFindingsTime() {
        let report = S.report([S.row("first()", suite: "S", database: "db", [(.test, 0, 100)]),
                               S.row("second()", suite: "S", database: "db", [(.test, 300, 400)])],
                              findings: [S.finding("db", at: 350)])
        let layout = TimelineLayout(TimelineDocument(reports: [report]))
        #expect(layout.rows.first { $0.label == "second()" }?.markers.count == 1)
        #expect(layout.rows.first { $0.label == "first()" }?.markers.isEmpty == true)
    }

    @Test func manyRowsCollapseEveryGroupButThoseWithFindingsAndTheTemplates() {
        let layout = TimelineLayout(TimelineDocument(reports: [S.synthetic(tests: 400, findings: 1)]))
        #expect(layout.groups.first?.title == "Template builds")
        #expect(layout.groups.first?.isOpen == true)
        let suites = layout.groups.dropFirst()
        #expect(suites.count == 8)
        #expect(suites.filter(\.isOpen).count == 1)
        #expect(suites.filter(\.isOpen).allSatisfy { $0.findingCount == 1 })
        #expect(!layout.barTooltips)
        let few = TimelineLayout(TimelineDocument(reports: [Self.small]))
        #expect(few.groups.allSatisfy { $0.isOpen })
        #expect(few.barTooltips)
    }

    @Test func barsTooNarrowToSeeAreLeftOutAndLabelsAreShortenedInTheMiddle() {
        let report = S.report([S.row("a()", suite: nil, database: "db", [(.poolLease, 0, 0.001), (.test, 0, 1000)])])
        let layout = TimelineLayout(TimelineDocument(reports: [report]))
        #expect(layout.rows[0].bars.map(\.phase) == [.test])
        #expect(TimelineLayout.shorten("abcdefghijklmnop", to: 9) == "abcd…mnop")
        #expect(TimelineLayout.shorten("short", to: 9) == "short")
    }

    @Test func reportsOfSeveralProcessesMergeOnOneAxis() {
        var one = S.report([S.row("a()", suite: "S", database: "db1", [(.test, 0, 100)])], findings: [S.finding("db1", at: 50)])
        one.databasesDropped = 1
        one.breakdown.create = 10
        var two = S.report([S.row("b()", suite: "S", database: "db2", [(.test, 500, 900)])])
        two.databasesDropped = 2
        two.breakdown.create = 5
        two.timeline.postgresVersion = "15.12"
        let document = TimelineDocument(reports: [one, two])
        #expect(document.processCount == 2)
        #expect(document.rows.count == 2)
        #expect(document.postgresVersions == ["15.12"])
        #expect(document.headline.contains("2 test databases"))
        #expect(document.headline.contains("3 dropped"))
        #expect(document.breakdown == "create 15 ms")
        let layout = TimelineLayout(TimelineDocument(reports: [one, two]))
        #expect(layout.duration == 900)
        #expect(layout.groups.map(\.rows.count) == [2])
    }

    @Test func theRecorderKeepsAtMostItsLimitAndCountsTheRest() throws {
        var timeline = RunTimeline(rowLimit: 2)
        let a = timeline.open(TimelineRow(kind: .test, process: 1))
        _ = timeline.open(TimelineRow(kind: .test, process: 1))
        #expect(timeline.open(TimelineRow(kind: .test, process: 1)) == nil)
        #expect(timeline.omittedRows == 1)
        timeline.add(TimelineSpan(.test, start: 1, end: 2), to: a)
        timeline.add(TimelineSpan(.test, start: 1, end: 2), to: nil)
        timeline.update(a) { $0.outcome = .recycled }
        #expect(timeline.rows[0].spans.count == 1)
        #expect(timeline.rows[0].outcome == .recycled)
        var snapshot = RunReport.Snapshot()
        snapshot.timeline = timeline
        let decoded = try JSONDecoder().decode(RunReport.Snapshot.self, from: JSONEncoder().encode(snapshot))
        #expect(decoded.timeline == timeline)
        let html = TimelineRenderer().render(TimelineDocument(reports: [decoded]))
        #expect(html.contains("1 more database is not drawn"))
    }

    @Test func whatThePoolDidAheadGoesOnTheRowOfTheTestThatPoppedTheCloneAndUnusedClonesGetRowsOfTheirOwn() {
        var timeline = RunTimeline()
        timeline.madeAhead("p1", [TimelineSpan(.create, start: S.t0, end: S.t0 + 40), TimelineSpan(.hooks, start: S.t0 + 40, end: S.t0 + 45)])
        timeline.madeAhead("p2", [TimelineSpan(.create, start: S.t0 + 10, end: S.t0 + 60)])
        let row = timeline.open(TimelineRow(kind: .test, database: "p1", test: "t()", process: 1))
        timeline.add(TimelineSpan(.poolLease, start: S.t0 + 100, end: S.t0 + 101), to: row)
        timeline.popped("p1", into: row)
        #expect(timeline.rows[0].spans.map(\.phase) == [.create, .hooks, .poolLease])
        #expect(timeline.rows[0].spans.map { $0.ahead == true } == [true, true, false])
        #expect(timeline.allRows.map(\.database) == ["p1", "p2"])
        var report = RunReport.Snapshot()
        report.timeline = timeline
        report.violations = [S.finding("p2", at: 30)]
        let layout = TimelineLayout(TimelineDocument(reports: [report]))
        #expect(layout.groups.map(\.title) == ["Tests without a suite", "Made ahead by the pool, taken by no test"])
        #expect(layout.groups[1].rows.first?.markers.count == 1)
        #expect(layout.groups[0].rows[0].bars.map(\.ahead) == [true, true, false])
        #expect(TimelineRenderer().render(TimelineDocument(reports: [report])).contains("class=\"cr ah\""))
    }

    @Test func theJSONReportKeepsAFindingsMillisecondsAndReadsReportsWithout() throws {
        let report = S.report([S.row("a()", suite: nil, database: "db1", [(.test, 100, 900)])], findings: [S.finding("db1", at: 473)])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgtk-report-\(UInt32.random(in: 0...UInt32.max)).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RunReport(report).writeJSON(to: path)
        let read = try RunReport.readJSON(at: path)
        #expect(abs(read.violations[0].time.timelineMilliseconds - (S.t0 + 473)) < 1)
        #expect(read.timeline == report.timeline)
        // A report with whole seconds (an older writer) reads too.
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: #"(\d\d:\d\d:\d\d)\.\d+Z"#, with: "$1Z", options: .regularExpression)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        #expect(abs(try RunReport.readJSON(at: path).violations[0].time.timelineMilliseconds - (S.t0 + 473)) < 1000)
        let error = #expect(throws: TestKitError.self) { try RunReport.readJSON(at: path + ".missing") }
        #expect(error?.code == .configuration)
    }

    @Test func aTemplateBuildIsARowWithItsPhases() {
        var timeline = RunTimeline()
        let start = Date(timelineMilliseconds: S.t0)
        let events = [PhaseEvent(phase: .connecting, start: start + 0.01, duration: nil),
                      PhaseEvent(phase: .migrating, start: start + 0.02, duration: nil),
                      PhaseEvent(phase: .seeding, start: start + 0.5, duration: nil),
                      PhaseEvent(phase: .ready, start: start + 0.6, duration: nil)]
        timeline.addTemplateBuild(name: "pgtk_tpl_x", scratch: "pgtk_tplb_x", label: "App/Migrations", start: start, events: events, end: start + 0.7)
        let row = timeline.rows[0]
        var report = RunReport.Snapshot()
        report.timeline = timeline
        report.violations = [S.finding("pgtk_tplb_x", at: 15)]
        let layout = TimelineLayout(TimelineDocument(reports: [report]))
        #expect(layout.rows.count == 1)   // a finding in the build's scratch database is on the template's row
        #expect(layout.rows[0].markers.count == 1)
        #expect(row.kind == .template)
        #expect(row.spans.map(\.phase) == [.templateLock, .templateHooks, .migrate, .seed, .publish])
        #expect(abs(row.spans[2].duration - 480) < 0.01)
        #expect(abs(row.end! - (S.t0 + 700)) < 0.01)
    }

    @Test func theHTMLHasARowPerRowAMarkerPerFindingAndNoScript() {
        let html = TimelineRenderer().render(TimelineDocument(reports: [Self.small]))
        #expect(html.components(separatedBy: "<g class=\"r\"").count - 1 == 4)
        #expect(html.components(separatedBy: "<g class=\"f\"").count - 1 == 2)
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(html.contains("PostgreSQL 15.12"))
        #expect(html.contains("<tr id=\"f2\">"))
        #expect(html.contains("App/Hooks.swift:12"))
        #expect(TimelineRenderer.escape("<a href=\"x\">&") == "&lt;a href=&quot;x&quot;&gt;&amp;")
    }

    @Test func aSyntheticRunOf3000TestsStaysUnder2MB() throws {
        let report = S.synthetic(tests: 3000, findings: 12)
        let html = TimelineRenderer().render(TimelineDocument(reports: [report]))
        let bytes = html.utf8.count
        print("timeline of a synthetic 3,000-test run: \(bytes) bytes")
        #expect(bytes < 2_000_000)
        #expect(html.components(separatedBy: "<g class=\"r\"").count - 1 == 3001)
        #expect(html.components(separatedBy: "<g class=\"f\"").count - 1 == 12)
        if let path = ProcessInfo.processInfo.environment["PGTESTKIT_SYNTHETIC_TIMELINE"] {
            try Data(html.utf8).write(to: URL(fileURLWithPath: path))
        }
    }
}
