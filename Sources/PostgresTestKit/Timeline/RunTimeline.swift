import Foundation

/// The timeline one process recorded: a row per test database and per template build, with
/// wall-clock spans, and where the run's server was. Part of ``RunReport/Snapshot`` (and so of
/// the JSON report), drawn by ``TimelineRenderer``.
///
/// Memory stays bounded: past ``rowLimit`` rows, new rows are only counted in
/// ``omittedRows`` (the picture says so).
package struct RunTimeline: Sendable, Codable, Equatable {
    /// How many rows a process records at most (`PGTESTKIT_TIMELINE_ROWS` overrides it).
    package static let defaultRowLimit = 5_000

    /// The rows, in the order they were opened; a row's index is its ``RowID``.
    package var rows: [TimelineRow] = []
    /// Rows not recorded because ``rowLimit`` was reached.
    package var omittedRows = 0
    /// The most rows recorded.
    package var rowLimit = RunTimeline.defaultRowLimit
    /// The server the run used (redacted), once a manager connected.
    package var server: String?
    /// The server's PostgreSQL version (`15.12`), once a manager connected.
    package var postgresVersion: String?

    /// What the pool did ahead for the clones it made that no test took yet (create,
    /// connect, hooks), by clone name; a test's pop moves them to its row. At most
    /// ``aheadLimit`` clones.
    package var madeAhead: [String: [TimelineSpan]] = [:]
    /// The most clones ``madeAhead`` holds.
    package static let aheadLimit = 1_000

    /// A recorded row's place, handed to the code that adds its spans later.
    package typealias RowID = Int

    /// An empty timeline; `rowLimit` from `PGTESTKIT_TIMELINE_ROWS` when set.
    package init(rowLimit: Int? = nil) {
        self.rowLimit = max(0, rowLimit ?? ToolkitSettings.process.timelineRows ?? Self.defaultRowLimit)
    }

    /// `15.12` for libpq's `150012` (`9.6.24` for `90624`).
    package static func versionName(_ number: Int) -> String {
        number >= 100000 ? "\(number / 10000).\(number % 10000)" : "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }

    /// Opens a row; `nil` (and counted) past the limit.
    package mutating func open(_ row: TimelineRow) -> RowID? {
        guard rows.count < rowLimit else {
            omittedRows += 1
            return nil
        }
        rows.append(row)
        return rows.count - 1
    }

    /// Adds a span to the row `id` (nothing for `nil` or an unknown row).
    package mutating func add(_ span: TimelineSpan, to id: RowID?) {
        guard let id, rows.indices.contains(id) else { return }
        rows[id].spans.append(span)
    }

    /// Changes the row `id` (nothing for `nil` or an unknown row).
    package mutating func update(_ id: RowID?, _ body: (inout TimelineRow) -> Void) {
        guard let id, rows.indices.contains(id) else { return }
        body(&rows[id])
    }

    /// Notes what the pool did to make the clone `database` ahead of any test.
    package mutating func madeAhead(_ database: String, _ spans: [TimelineSpan]) {
        guard madeAhead.count < Self.aheadLimit else { return }
        madeAhead[database] = spans.map { var span = $0; span.ahead = true; return span }
    }

    /// A test popped the clone `database`: what the pool did ahead goes first on its row.
    package mutating func popped(_ database: String, into id: RowID?) {
        guard let spans = madeAhead.removeValue(forKey: database) else { return }
        update(id) { $0.spans.insert(contentsOf: spans, at: 0) }
    }

    /// The rows: those recorded, then one per clone the pool made ahead that no test took.
    package var allRows: [TimelineRow] {
        rows + madeAhead.sorted { ($0.value.first?.start ?? 0, $0.key) < ($1.value.first?.start ?? 0, $1.key) }.map { name, spans in
            var row = TimelineRow(kind: .pool, database: name, process: ProcessInfo.processInfo.processIdentifier)
            row.spans = spans
            return row
        }
    }

    /// Records a template build as a row: from `start` through the scratch database's phase
    /// `events` (connecting, migrating, seeding, ready) to `end`, the publish done.
    /// `scratch` is the database it was built in, before the publishing rename.
    package mutating func addTemplateBuild(name: String, scratch: String? = nil, label: String, start: Date, events: [PhaseEvent], end: Date) {
        var row = TimelineRow(kind: .template, database: name, test: label, suite: nil,
                              process: ProcessInfo.processInfo.processIdentifier, outcome: .built)
        row.scratch = scratch
        let phases: [Phase: TimelinePhase] = [.connecting: .templateHooks, .migrating: .migrate, .seeding: .seed, .ready: .publish]
        if let first = events.first { row.spans.append(TimelineSpan(.templateLock, from: start, to: first.start)) }
        for (index, event) in events.enumerated() {
            guard let phase = phases[event.phase] else { continue }
            let until = index + 1 < events.count ? events[index + 1].start : end
            row.spans.append(TimelineSpan(phase, from: event.start, to: until))
        }
        _ = open(row)
    }
}
