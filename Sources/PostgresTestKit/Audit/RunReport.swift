import Foundation
import Synchronization

/// What one test process did with its databases: the end-of-run summary, the JSON report
/// (`PGTESTKIT_REPORT=path`) and GitHub Actions annotations (`GITHUB_ACTIONS=true`).
///
/// It records and renders; ``ProcessShutdown`` decides when it is printed (once, after the
/// cleanup, at the end of the tests or the process) and turns ``Snapshot/failsRun`` into
/// a failed run.
package final class RunReport: Sendable {
    /// The counters and findings of a run.
    package struct Snapshot: Sendable, Codable {
        /// Databases created for tests.
        package var databasesCreated = 0
        /// Of those, taken ready-made from the pool.
        package var databasesFromPool = 0
        /// Released clones the WAL showed unchanged, put back into the pool instead of dropped.
        package var databasesRecycled = 0
        /// Released clones a test wrote into, reset to their template's state (``ResetPlan``)
        /// and put back into the pool instead of dropped.
        package var databasesReset = 0
        /// Ready clones earlier processes left that this one adopted into its pools (the warm pool).
        package var databasesAdopted = 0
        /// Databases kept after their test (keep-on-failure).
        package var databasesKept = 0
        /// Databases dropped.
        package var databasesDropped = 0
        /// Templates built (migrations run).
        package var templatesBuilt = 0
        /// Templates reused (no migration work).
        package var templatesReused = 0
        /// Milliseconds tests waited for their database (acquire), summed over tests.
        package var setupMilliseconds = 0.0
        /// Milliseconds spent preparing before any test started (Swift Testing's planning: the
        /// sessions, the templates' lookup, the warm pool's adoption), not in any test's set-up.
        package var preparedAheadMilliseconds = 0.0
        /// Milliseconds between a test getting its database and releasing it, summed over tests.
        package var testMilliseconds = 0.0
        /// Where the set-up and release time went, part by part.
        package var breakdown = TimeBreakdown()
        /// Why test databases were slow on the server, when they were (``SlowServerNote``).
        package var slowServer: SlowServerNote?
        /// Every violation.
        package var violations: [LifecycleViolation] = []
        /// Kept databases and how to connect to them (redacted).
        package var kept: [String] = []
        /// Set when, under `.fail`, the server log showed a write no test could be blamed for:
        /// the run then fails after the tests (an XCTest failure, or exit status 1).
        package var failsRun = false
        /// The run's timeline: a row per test database and template build, with wall-clock
        /// spans (``TimelineRenderer`` draws it; `PGTESTKIT_TIMELINE`, `pgtestkit report --html`).
        package var timeline = RunTimeline()

        /// The summary's first line: the counters and the set-up and test times.
        package var headline: String {
            "PostgresTestKit summary: \(databasesCreated) test databases (\(databasesFromPool) from the pool), "
                + "\(databasesAdopted) adopted, \(databasesRecycled) recycled unchanged, \(databasesReset) reset, \(databasesDropped) dropped, \(databasesKept) kept; templates: \(templatesBuilt) built, \(templatesReused) reused; "
                + String(format: "database set-up %.0f ms vs in tests %.0f ms (summed over tests); ", setupMilliseconds, testMilliseconds)
                + "violations: \(violations.count)"
        }
    }

    /// The report of this process.
    package static let shared = RunReport()

    private let state: Mutex<Snapshot>

    /// A report holding `snapshot` (``shared`` is the process's; others are for tests and tools).
    package init(_ snapshot: Snapshot = Snapshot()) {
        state = Mutex(snapshot)
    }

    /// The current counters.
    package var snapshot: Snapshot { state.withLock { $0 } }

    /// Changes the counters, from any thread or task; the first change makes sure the exit
    /// hook is registered, so that what was recorded is printed.
    func update(_ body: (inout Snapshot) -> Void) {
        ProcessShutdown.shared.installExitHook()
        state.withLock { body(&$0) }
    }

    /// Opens a timeline row (``RunTimeline/open(_:)``); `nil` past the row limit.
    func openTimelineRow(_ row: TimelineRow) -> RunTimeline.RowID? {
        ProcessShutdown.shared.installExitHook()
        return state.withLock { $0.timeline.open(row) }
    }

    /// Records a violation.
    func add(_ violation: LifecycleViolation) {
        update { $0.violations.append(violation) }
    }

    /// The short human summary printed at the end of a run.
    package var summary: String {
        let s = snapshot
        var lines = [s.headline]
        if s.preparedAheadMilliseconds > 0 {
            lines.append(String(format: "  prepared before the tests started: %.0f ms (not in any test's set-up)", s.preparedAheadMilliseconds))
        }
        if !s.breakdown.summary.isEmpty { lines.append("  the toolkit's time went to: \(s.breakdown.summary)") }
        if let slow = s.slowServer {
            let made = s.databasesCreated - s.databasesFromPool
            lines.append("  slow server: " + slow.message(meanCreateMilliseconds: made > 0 && s.breakdown.create > 0 ? s.breakdown.create / Double(made) : nil))
        }
        for violation in s.violations { lines.append("  ✗ \(violation)") }
        for kept in s.kept { lines.append("  kept: \(kept)") }
        return lines.joined(separator: "\n")
    }

    /// GitHub Actions `::error` annotations, one per violation with a source line.
    package var githubAnnotations: [String] {
        snapshot.violations.map { v in
            let message = v.description.replacingAll("\n", with: " ").replacingAll("%", with: "%25")
            if let source = v.source {
                let file = source.relativePath(to: FileManager.default.currentDirectoryPath)
                return "::error file=\(file),line=\(source.line),title=PostgresTestKit \(v.kind)::\(message)"
            }
            return "::error title=PostgresTestKit \(v.kind)::\(message)"
        }
    }

    /// Writes the JSON report to `path`.
    package func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Milliseconds kept: the timeline puts a merged report's findings on its rows by time.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path))
    }

    /// Reads a JSON report ``writeJSON(to:)`` wrote (`PGTESTKIT_REPORT`), or throws a
    /// `.configuration` error naming the file.
    package static func readJSON(at path: String) throws -> Snapshot {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) }
        catch { throw TestKitError(.configuration, "cannot read the report \(path): \(error.localizedDescription)", underlying: error) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in   // with or without fractional seconds
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) {
                return date
            }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date: \(text)"))
        }
        do { return try decoder.decode(Snapshot.self, from: data) }
        catch {
            throw TestKitError(.configuration, "\(path) is not a PostgresTestKit JSON report of this version (PGTESTKIT_REPORT): \(error)", underlying: error)
        }
    }

    /// Writes the timeline of this process (``TimelineRenderer``) to `path`, as one HTML file.
    package func writeTimeline(to path: String) throws {
        let html = TimelineRenderer().render(TimelineDocument(reports: [snapshot]))
        try Data(html.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Prints the summary (last, after what the process printed) and, where asked for, the
    /// GitHub annotations and the JSON report; nothing when the run used no database.
    func printReport() {
        let settings = ToolkitSettings.process
        let s = snapshot
        guard s.databasesCreated + s.templatesBuilt + s.templatesReused + s.violations.count > 0 else { return }
        fflush(nil)   // what the process printed comes first, the summary last
        var output = summary + "\n"
        if settings.githubActions {
            output += githubAnnotations.joined(separator: "\n") + "\n"
        }
        FileHandle.standardError.write(Data(output.utf8))
        let pid = String(ProcessInfo.processInfo.processIdentifier)
        if let path = settings.reportPath {
            try? writeJSON(to: path.replacingAll("%p", with: pid))
        }
        if let path = settings.timelinePath {
            let file = path.replacingAll("%p", with: pid)
            do {
                try writeTimeline(to: file)
                FileHandle.standardError.write(Data("PostgresTestKit timeline: \(file)\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("PostgresTestKit: could not write the timeline \(file): \(error)\n".utf8))
            }
        }
    }
}
