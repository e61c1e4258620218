import Foundation
@testable import PostgresTestKit

/// Timelines made up for the layout's tests: a few rows by hand, or a synthetic run of
/// thousands of tests with the phases a real run has.
enum TimelineSamples {
    static let t0 = 1_790_000_000_000.0   // a fixed wall-clock origin (milliseconds since 1970)

    static func row(_ test: String, suite: String?, database: String, _ spans: [(TimelinePhase, Double, Double)],
                    outcome: TimelineRow.Outcome? = .dropped) -> TimelineRow {
        var row = TimelineRow(kind: .test, database: database, test: test, suite: suite, process: 42, outcome: outcome)
        row.spans = spans.map { TimelineSpan($0.0, start: t0 + $0.1, end: t0 + $0.2) }
        return row
    }

    static func finding(_ database: String, at offset: Double, kind: LifecycleViolation.Kind = .writeInConnectHook) -> LifecycleViolation {
        LifecycleViolation(kind: kind, phase: .connecting, database: database, statement: "INSERT INTO t VALUES (1)",
                           time: Date(timelineMilliseconds: t0 + offset), source: RegistrationSite(fileID: "App/Hooks.swift", line: 12))
    }

    static func report(_ rows: [TimelineRow], findings: [LifecycleViolation] = []) -> RunReport.Snapshot {
        var snapshot = RunReport.Snapshot()
        snapshot.timeline = RunTimeline(rowLimit: 10_000)
        for row in rows { _ = snapshot.timeline.open(row) }
        snapshot.databasesCreated = rows.filter { $0.kind == .test }.count
        snapshot.violations = findings
        snapshot.timeline.server = "embedded PostgreSQL at /tmp/x"
        snapshot.timeline.postgresVersion = "15.12"
        return snapshot
    }

    /// `count` tests in suites of 50, eight at a time, with a template build first: misses
    /// create, connect and drop; the rest are pool pops (with the pool's work ahead on their
    /// rows) whose verdicts recycle or reset them.
    static func synthetic(tests count: Int, findings: Int) -> RunReport.Snapshot {
        var rows: [TimelineRow] = []
        var template = TimelineRow(kind: .template, database: "pgtk_tpl_0123456789abcdef", test: "Tests/Migrations", process: 42, outcome: .built)
        template.spans = [TimelineSpan(.templateLock, start: t0, end: t0 + 30), TimelineSpan(.templateHooks, start: t0 + 30, end: t0 + 45),
                          TimelineSpan(.migrate, start: t0 + 45, end: t0 + 900), TimelineSpan(.seed, start: t0 + 900, end: t0 + 1100),
                          TimelineSpan(.publish, start: t0 + 1100, end: t0 + 1180)]
        rows.append(template)
        var lanes = [Double](repeating: 1180, count: 8)
        for index in 0..<count {
            let lane = index % 8
            var at = lanes[lane]
            var spans: [(TimelinePhase, Double, Double)] = []
            func add(_ phase: TimelinePhase, _ length: Double) { spans.append((phase, at, at + length)); at += length }
            let miss = index % 5 == 0
            if index < 8 { spans.append((.preparation, 0, 1180)) }
            add(.poolLease, miss ? 0.1 : 0.4)
            if miss { add(.laneWait, 3); add(.create, 38); add(.connect, 6) }
            add(.hooks, 1.2)
            add(.test, Double(20 + (index * 37) % 180))
            add(.leakCheck, 1.1); add(.logScan, 2.3); add(.handOff, 0.3)
            let outcome: TimelineRow.Outcome = miss ? .dropped : index % 3 == 0 ? .reset : .recycled
            let release = at
            add(.verdict, miss ? 4 : 25)
            if miss { add(.drop, 22) }
            lanes[lane] = release + 0.5
            var made = row("testNumber\(index)WithAName()", suite: "AppTests.Suite\(index / 50)",
                           database: "pgtk_ab12cd_g1p\(index)", spans, outcome: outcome)
            if !miss {   // a pop: what the pool did ahead goes first on the row
                let lease = made.spans[0].start
                made.spans.insert(contentsOf: [TimelineSpan(.create, start: lease - 60, end: lease - 20),
                                               TimelineSpan(.connect, start: lease - 20, end: lease - 8),
                                               TimelineSpan(.hooks, start: lease - 8, end: lease - 6)].map { var s = $0; s.ahead = true; return s }, at: 0)
            }
            rows.append(made)
        }
        let violations = (0..<findings).map { finding("pgtk_ab12cd_g1p\($0 * 97 % count)", at: 1200 + Double($0) * 800) }
        return report(rows, findings: violations)
    }
}
