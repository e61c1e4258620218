import Foundation

/// Where everything of a timeline picture goes: the time scale, the axis ticks, the groups of
/// rows (by suite, collapsible), each row's bars and finding markers. A pure value computed
/// from a ``TimelineDocument``: ``TimelineRenderer`` only writes it out.
package struct TimelineLayout: Sendable, Equatable {
    /// Sizes and thresholds.
    package struct Options: Sendable, Equatable {
        /// Width of the time axis, in pixels.
        package var plotWidth = 1000.0
        /// Width of the row labels left of the axis, in pixels.
        package var labelWidth = 260.0
        /// Height of a row, in pixels.
        package var rowHeight = 14.0
        /// Up to this many rows every group starts open; above it only groups with findings
        /// and the templates do (a click opens the others).
        package var openRowLimit = 200
        /// Up to this many rows every bar carries its own tooltip; above it only rows do
        /// (the file stays small at thousands of tests).
        package var barTooltipRowLimit = 300
        /// Bars narrower than this (pixels) are left out: they could not be seen.
        package var minimumBarWidth = 0.2

        /// The defaults.
        package init() {}
    }

    /// A labelled mark on the time axis.
    package struct Tick: Sendable, Equatable {
        /// Milliseconds since the picture's origin.
        package var offset: Double
        /// Its x position (pixels, label column included).
        package var x: Double
        /// `0`, `500 ms`, `1.5 s`, `2 min`.
        package var label: String
    }

    /// One phase bar.
    package struct Bar: Sendable, Equatable {
        /// The phase it shows.
        package var phase: TimelinePhase
        /// Left edge (pixels, label column included).
        package var x: Double
        /// Width in pixels (at least ``Options/minimumBarWidth``).
        package var width: Double
        /// How long the phase lasted, in milliseconds.
        package var duration: Double
        /// Whether the pool did it ahead of the test (drawn paler).
        package var ahead = false
    }

    /// A finding's marker on its row.
    package struct Marker: Sendable, Equatable {
        /// The finding's index in ``TimelineDocument/findings``.
        package var finding: Int
        /// Its x position (pixels, label column included).
        package var x: Double
    }

    /// A laid-out row.
    package struct Row: Sendable, Equatable {
        /// What it stands for.
        package var kind: TimelineRow.Kind
        /// The text left of the axis (the test's name, else the database's), shortened to fit.
        package var label: String
        /// The database, when known.
        package var database: String?
        /// The row's hover text: test, database, suite, process, outcome, time.
        package var tooltip: String
        /// What became of the database.
        package var outcome: TimelineRow.Outcome?
        /// Its bars, left to right.
        package var bars: [Bar]
        /// Its findings' markers.
        package var markers: [Marker]
        /// Its top, in pixels from its group's top.
        package var y: Double
    }

    /// A group of rows (a suite, the templates, or the other databases findings name).
    package struct Group: Sendable, Equatable {
        /// Its heading.
        package var title: String
        /// Its rows, by start time.
        package var rows: [Row]
        /// Whether it starts open.
        package var isOpen: Bool
        /// Its height in pixels.
        package var height: Double
        /// How many markers its rows carry.
        package var findingCount: Int
        /// When its first row starts and its last ends, in milliseconds since the origin.
        package var extent: ClosedRange<Double>?
    }

    /// The time at the left end of the axis (milliseconds since 1970).
    package let origin: Double
    /// The time the axis spans, in milliseconds (at least 1).
    package let duration: Double
    /// Pixels per millisecond.
    package let scale: Double
    /// The axis's marks, from 0 to the end.
    package let ticks: [Tick]
    /// Milliseconds between two ticks.
    package let tickStep: Double
    /// The groups: templates first, then suites by start time, the pool's unused clones, and
    /// other databases last.
    package let groups: [Group]
    /// Whether bars carry tooltips of their own.
    package let barTooltips: Bool
    /// The options it was laid out with.
    package let options: Options

    /// Lays out `document`.
    package init(_ document: TimelineDocument, options: Options = Options()) {
        self.options = options
        var rows = document.rows
        // Every finding goes on a row: its database's row at that time, else a row of its own
        // for a database no test had (the maintenance database, a foreign one).
        var findingsOfRow: [Int: [(Int, Double)]] = [:]
        var rowsByDatabase: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() {
            for db in [row.database, row.scratch].compactMap({ $0 }) { rowsByDatabase[db, default: []].append(index) }
        }
        for (index, finding) in document.findings.enumerated() {
            let time = finding.time.timelineMilliseconds
            let row: Int
            if let candidates = rowsByDatabase[finding.database], let best = Self.closest(candidates, to: time, in: rows) {
                row = best
            } else {
                rows.append(TimelineRow(kind: .other, database: finding.database, process: 0))
                row = rows.count - 1
                rowsByDatabase[finding.database] = [row]
            }
            // A report's dates are whole seconds: a marker stays within its row's bars.
            var at = time
            if let start = rows[row].start, let end = rows[row].end { at = min(max(time, start), end) }
            findingsOfRow[row, default: []].append((index, at))
        }
        let times = rows.flatMap { $0.spans.flatMap { [$0.start, $0.end] } } + findingsOfRow.values.flatMap { $0.map(\.1) }
        let origin = times.min() ?? 0
        let duration = max(1, (times.max() ?? origin) - origin)
        let scale = options.plotWidth / duration
        self.origin = origin
        self.duration = duration
        self.scale = scale
        let step = Self.tickStep(for: duration)
        self.tickStep = step
        ticks = stride(from: 0.0, through: duration + step * 0.001, by: step).map {
            Tick(offset: $0, x: options.labelWidth + $0 * scale, label: Self.label(milliseconds: $0))
        }
        barTooltips = rows.count <= options.barTooltipRowLimit

        // Group: preparations, templates, suites (by their first start), other databases.
        var preparations: [Int] = []
        var templates: [Int] = []
        var others: [Int] = []
        var unused: [Int] = []
        var suites: [String: [Int]] = [:]
        for (index, row) in rows.enumerated() {
            switch row.kind {
            case .preparation: preparations.append(index)
            case .template: templates.append(index)
            case .other: others.append(index)
            case .pool: unused.append(index)
            case .test: suites[row.suite ?? "Tests without a suite", default: []].append(index)
            }
        }
        let first: ([Int]) -> Double = { $0.compactMap { rows[$0].start }.min() ?? .infinity }
        var grouped: [(String, [Int])] = []
        if !preparations.isEmpty { grouped.append(("Prepared before the tests started", preparations)) }
        if !templates.isEmpty { grouped.append(("Template builds", templates)) }
        grouped += suites.sorted { (first($0.value), $0.key) < (first($1.value), $1.key) }.map { ($0.key, $0.value) }
        if !unused.isEmpty { grouped.append(("Made ahead by the pool, taken by no test", unused)) }
        if !others.isEmpty { grouped.append(("Other databases the findings name", others)) }
        let allOpen = rows.count <= options.openRowLimit
        groups = grouped.map { title, members in
            let ordered = members.sorted { (rows[$0].start ?? .infinity, $0) < (rows[$1].start ?? .infinity, $1) }
            let laid = ordered.enumerated().map { position, index in
                Self.layRow(rows[index], y: Double(position) * options.rowHeight, markers: findingsOfRow[index] ?? [],
                            origin: origin, scale: scale, options: options)
            }
            let findingCount = laid.map(\.markers.count).reduce(0, +)
            let kind = rows[members[0]].kind
            let starts = members.compactMap { rows[$0].start }, ends = members.compactMap { rows[$0].end }
            let extent = starts.min().flatMap { start in ends.max().map { (start - origin)...max(start, $0) - origin } }
            return Group(title: title, rows: laid, isOpen: allOpen || findingCount > 0 || kind != .test,
                         height: Double(laid.count) * options.rowHeight, findingCount: findingCount, extent: extent)
        }
    }

    /// The x position of the time `milliseconds` (since 1970).
    package func x(at milliseconds: Double) -> Double {
        options.labelWidth + (milliseconds - origin) * scale
    }

    /// Every row, group by group.
    package var rows: [Row] { groups.flatMap(\.rows) }

    /// The full width, label column included.
    package var width: Double { options.labelWidth + options.plotWidth + 12 }

    /// Of the rows `candidates`, the one whose time span holds `time`, else the nearest.
    private static func closest(_ candidates: [Int], to time: Double, in rows: [TimelineRow]) -> Int? {
        candidates.min { a, b in distance(time, rows[a]) < distance(time, rows[b]) }
    }

    private static func distance(_ time: Double, _ row: TimelineRow) -> Double {
        guard let start = row.start, let end = row.end else { return .infinity }
        return time < start ? start - time : time > end ? time - end : 0
    }

    private static func layRow(
        _ row: TimelineRow, y: Double, markers: [(Int, Double)], origin: Double, scale: Double, options: Options
    ) -> Row {
        let x = { (time: Double) in options.labelWidth + (time - origin) * scale }
        let bars = row.spans.compactMap { span -> Bar? in
            let width = span.duration * scale
            guard width >= options.minimumBarWidth else { return nil }
            return Bar(phase: span.phase, x: x(span.start), width: width, duration: span.duration, ahead: span.ahead == true)
        }.sorted { $0.x < $1.x }
        let label: String
        switch row.kind {
        case .template: label = "template " + (row.test ?? row.database ?? "?")
        case .preparation: label = "prepared " + (row.test ?? "?")
        case .other, .pool: label = row.database ?? "?"
        case .test: label = row.test ?? row.database ?? "(acquire failed)"
        }
        var tooltip: [String] = [row.test, row.database, row.suite].compactMap { $0 }
        if row.kind != .other { tooltip.append("process \(row.process)") }
        if let outcome = row.outcome { tooltip.append(outcome.rawValue + (row.note.map { ": \($0)" } ?? "")) }
        else if let note = row.note { tooltip.append(note) }
        if let start = row.start, let end = row.end {
            tooltip.append("\(Self.label(milliseconds: start - origin)) → \(Self.label(milliseconds: end - origin)) (\(Self.label(milliseconds: end - start)))")
        }
        return Row(kind: row.kind, label: shorten(label, to: Int(options.labelWidth / 6.6)), database: row.database,
                   tooltip: tooltip.joined(separator: " · "), outcome: row.outcome, bars: bars,
                   markers: markers.map { Marker(finding: $0.0, x: x($0.1)) }, y: y)
    }

    /// `text`, cut to `limit` characters with an ellipsis (the middle goes: test names differ at their ends).
    package static func shorten(_ text: String, to limit: Int) -> String {
        guard text.count > limit, limit > 3 else { return text }
        let head = (limit - 1) / 2
        return String(text.prefix(head)) + "…" + String(text.suffix(limit - 1 - head))
    }

    /// A round step (1, 2 or 5 times a power of ten milliseconds) giving 5 to 10 ticks over `duration`.
    package static func tickStep(for duration: Double) -> Double {
        let rough = max(duration, 1) / 8
        let power = pow(10, floor(log10(rough)))
        for factor in [1.0, 2, 5, 10] where factor * power >= rough { return factor * power }
        return 10 * power
    }

    /// `0`, `0.25 ms`, `250 ms`, `1.5 s`, `90 s`, `2 min`, `2.5 min`: two decimals at most,
    /// whole milliseconds from 10 ms on.
    package static func label(milliseconds: Double) -> String {
        if milliseconds == 0 { return "0" }
        if milliseconds < 10 { return trimmed(milliseconds) + " ms" }
        if milliseconds < 1000 { return "\(Int(milliseconds.rounded())) ms" }
        if milliseconds < 120_000 { return trimmed(milliseconds / 1000) + " s" }
        return trimmed(milliseconds / 60_000) + " min"
    }

    /// A span of time in one unit, the upper end's: `12–480 ms`, `0.97–2.9 s`, `1.5–3 min`.
    package static func label(from lower: Double, to upper: Double) -> String {
        if upper < 1000 { return "\(Int(lower.rounded()))–\(Int(upper.rounded())) ms" }
        if upper < 120_000 { return "\(trimmed(lower / 1000))–\(trimmed(upper / 1000)) s" }
        return "\(trimmed(lower / 60_000))–\(trimmed(upper / 60_000)) min"
    }

    private static func trimmed(_ value: Double) -> String {
        var result = Substring(String(format: "%.2f", value))
        while result.hasSuffix("0") { result = result.dropLast() }
        if result.hasSuffix(".") { result = result.dropLast() }
        return String(result)
    }
}
