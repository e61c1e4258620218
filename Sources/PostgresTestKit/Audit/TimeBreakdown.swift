import Foundation

/// Where the toolkit's time in a run went, in milliseconds summed over tests: each test's
/// set-up (acquire) and release split into their parts, so that a slow run shows which part to
/// look at. In the JSON report (`PGTESTKIT_REPORT`) and the summary.
package struct TimeBreakdown: Sendable, Codable, Equatable {
    /// Set-up: waiting for the manager's preparation (the template, the pool's adoption).
    package var preparation = 0.0
    /// Set-up: taking a clone from the pool (a pop, or waiting for a verdict under way).
    package var poolLease = 0.0
    /// Set-up: `CREATE DATABASE` for a clone made on demand (a miss), a lane included.
    package var create = 0.0
    /// Set-up: connecting to a clone made on demand (a pooled clone's session is open).
    package var connect = 0.0
    /// Set-up: the connect hooks of a clone made on demand, and per-test seeders.
    package var hooksAndSeeding = 0.0
    /// Release: the leak check (sessions still connected).
    package var leakCheck = 0.0
    /// Release: the run audit's scan of the statement log.
    package var logScan = 0.0
    /// Release: handing the clone to its verdict or its drop (both off the test's path).
    package var handOff = 0.0

    package init() {}

    /// The parts that are not zero, largest first, as `name X ms`.
    package var summary: String {
        let parts: [(String, Double)] = [
            ("preparation", preparation), ("pool lease", poolLease), ("create", create), ("connect", connect),
            ("hooks and seeding", hooksAndSeeding), ("leak check", leakCheck), ("log scan", logScan), ("hand-off", handOff),
        ]
        return parts.filter { $0.1 >= 0.5 }.sorted { $0.1 > $1.1 }
            .map { "\($0.0) \(Int($0.1.rounded())) ms" }.joined(separator: ", ")
    }
}

extension TimeBreakdown {
    /// Times the parts of one acquire or release in turn: each ``record(_:)`` adds the time
    /// since the last one (or since the start) to a part of the run's report.
    ///
    /// With a timeline row, each lap is also a bar of that row (``RunTimeline``), in wall-clock
    /// time: the same points time both.
    struct Laps {
        private var last = ContinuousClock.now
        private var lastDate: Date
        /// The timeline row the laps draw on, if any.
        var row: RunTimeline.RowID?

        /// Starts timing now, or at `start` (a wall-clock date and the same instant on the
        /// continuous clock) when the first part began earlier.
        init(row: RunTimeline.RowID? = nil, since start: (ContinuousClock.Instant, Date)? = nil) {
            self.row = row
            if let start { (last, lastDate) = start } else { lastDate = Date() }
        }

        /// Adds the time since the last lap to `part` of the run's breakdown, and draws it as
        /// a `phase` bar on the row.
        mutating func record(_ part: WritableKeyPath<TimeBreakdown, Double>, as phase: TimelinePhase? = nil) {
            let now = ContinuousClock.now
            let date = Date()
            let elapsed = (now - last).milliseconds
            let span = phase.map { TimelineSpan($0, from: lastDate, to: date) }
            last = now
            lastDate = date
            let row = self.row
            RunReport.shared.update {
                $0.breakdown[keyPath: part] += elapsed
                if let span { $0.timeline.add(span, to: row) }
            }
        }

        /// Draws the time since the last lap up to `date` as a `phase` bar, without adding it
        /// to the breakdown: the next ``record(_:as:)`` adds both to its part, and draws the
        /// rest as its own bar.
        mutating func split(at date: Date, as phase: TimelinePhase) {
            let span = TimelineSpan(phase, from: lastDate, to: date)
            lastDate = date
            let row = self.row
            RunReport.shared.update { $0.timeline.add(span, to: row) }
        }
    }
}

extension TimeBreakdown {
    /// Two breakdowns added part by part (the reports of several processes).
    package static func + (lhs: TimeBreakdown, rhs: TimeBreakdown) -> TimeBreakdown {
        var sum = lhs
        sum.preparation += rhs.preparation
        sum.poolLease += rhs.poolLease
        sum.create += rhs.create
        sum.connect += rhs.connect
        sum.hooksAndSeeding += rhs.hooksAndSeeding
        sum.leakCheck += rhs.leakCheck
        sum.logScan += rhs.logScan
        sum.handOff += rhs.handOff
        return sum
    }
}
