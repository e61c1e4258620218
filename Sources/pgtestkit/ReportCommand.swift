import ArgumentParser
import Foundation
import PostgresTestKit

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Merge the JSON reports of a run's processes (PGTESTKIT_REPORT) and draw the run's timeline.",
        discussion: """
            Each test process writes its report at exit when PGTESTKIT_REPORT is set (%p in the path \
            becomes the process id, for `swift test --parallel` and CI shards). This command prints \
            their merged summary and, with --html, writes one picture of all of them on a shared \
            time axis: a row per test database, a bar per phase, a marker per finding.

            Example:
              PGTESTKIT_REPORT=.build/pgtk-%p.json swift test --parallel
              pgtestkit report --html .build/timeline.html .build/pgtk-*.json
            """)

    @Option(name: .long, help: ArgumentHelp("Write the run's timeline (self-contained HTML) to this file.", valueName: "file"))
    var html: String?

    @Argument(help: ArgumentHelp("The JSON reports to merge.", valueName: "report.json"))
    var reports: [String]

    func run() throws {
        let snapshots = try reports.map { try RunReport.readJSON(at: $0) }
        let merged = RunReport.Snapshot.merged(snapshots)
        print(merged.headline)
        if !merged.breakdown.summary.isEmpty { print("  the toolkit's time went to: \(merged.breakdown.summary)") }
        for violation in merged.violations { print("  ✗ \(violation)") }
        guard let html else { return }
        let document = TimelineDocument(reports: snapshots)
        let text = TimelineRenderer().render(document)
        try Data(text.utf8).write(to: URL(fileURLWithPath: html))
        print("timeline of \(snapshots.count) report(s), \(document.rows.count) row(s), \(document.findings.count) finding(s): \(html) (\(text.utf8.count / 1024) KB)")
    }
}
