import Foundation

/// What one picture shows: the timelines and findings of one or more processes' reports
/// (``RunReport/Snapshot``), merged on their shared wall-clock axis, with the run's totals.
package struct TimelineDocument: Sendable, Equatable {
    /// Every recorded row of every report.
    package var rows: [TimelineRow]
    /// Every finding of every report, in time order.
    package var findings: [LifecycleViolation]
    /// The merged reports' summary line (``RunReport/Snapshot/headline``).
    package var headline: String
    /// Where the toolkit's time went (``TimeBreakdown/summary``), merged.
    package var breakdown: String
    /// The servers the reports name (redacted), each once.
    package var servers: [String]
    /// The PostgreSQL versions the reports name, each once.
    package var postgresVersions: [String]
    /// How many process reports were merged.
    package var processCount: Int
    /// Rows the processes did not record (their row limit), summed.
    package var omittedRows: Int
    /// The row limit of the reports (the largest), for the note on omitted rows.
    package var rowLimit: Int

    /// Merges the reports of one run's processes.
    package init(reports: [RunReport.Snapshot]) {
        let merged = RunReport.Snapshot.merged(reports)
        rows = reports.flatMap(\.timeline.allRows)
        findings = merged.violations.sorted { $0.time < $1.time }
        headline = merged.headline
        breakdown = merged.breakdown.summary
        servers = Self.unique(reports.compactMap(\.timeline.server))
        postgresVersions = Self.unique(reports.compactMap(\.timeline.postgresVersion))
        processCount = reports.count
        omittedRows = reports.map(\.timeline.omittedRows).reduce(0, +)
        rowLimit = reports.map(\.timeline.rowLimit).max() ?? RunTimeline.defaultRowLimit
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
