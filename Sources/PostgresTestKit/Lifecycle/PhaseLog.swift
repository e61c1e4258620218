import Foundation
import Synchronization

/// The ordered phase history of one database, shared between the toolkit and the test.
///
/// The toolkit enforces the lifecycle order as it moves the database on; the log is what reports and the demo print.
public final class PhaseLog: Sendable {
    private struct State {
        var events: [PhaseEvent] = []
        var lastStart: ContinuousClock.Instant?

        /// Closes the current phase's duration and opens `phase`.
        mutating func append(_ phase: Phase, at now: ContinuousClock.Instant) {
            if let start = lastStart, !events.isEmpty {
                events[events.count - 1].duration = now - start
            }
            events.append(PhaseEvent(phase: phase, start: Date(), duration: phase.successors.isEmpty ? .zero : nil))
            lastStart = now
        }
    }
    private let state = Mutex(State())
    /// The database this log belongs to.
    public let database: String

    /// The database's row in the run's timeline, when it has one.
    package let timelineRow: RunTimeline.RowID?

    /// Starts a log in phase ``Phase/connecting``.
    package init(database: String) {
        self.database = database
        self.timelineRow = nil
        enterUnchecked(.connecting)
    }

    /// Starts a log in phase ``Phase/connecting`` for a database drawn on the timeline row `timelineRow`.
    package init(database: String, timelineRow: RunTimeline.RowID?) {
        self.database = database
        self.timelineRow = timelineRow
        enterUnchecked(.connecting)
    }

    /// The current phase.
    public var current: Phase { state.withLock { $0.events.last?.phase ?? .connecting } }

    /// The events so far.
    public var events: [PhaseEvent] { state.withLock { $0.events } }

    /// Moves to `phase`, or throws `.illegalPhaseTransition` naming both phases.
    ///
    /// The check and the move are one step under the lock: of two callers entering the same
    /// phase at once, one moves and the other is refused.
    package func enter(_ phase: Phase) throws {
        let now = ContinuousClock.now
        let refusedFrom: Phase? = state.withLock { state in
            let from = state.events.last?.phase ?? .connecting
            guard from.successors.contains(phase) else { return from }
            state.append(phase, at: now)
            return nil
        }
        if let from = refusedFrom {
            throw TestKitError(.illegalPhaseTransition, "database \(database): cannot enter phase '\(phase)' while in phase '\(from)'. The order is connecting → migrating → seeding → ready → releasing → dropped.")
        }
    }

    /// Requires the current phase to be `phase`, naming `step` in the error otherwise.
    package func require(_ phase: Phase, for step: String) throws {
        let now = current
        guard now == phase else {
            throw TestKitError(.illegalPhaseTransition, "database \(database): \(step) may run only in phase '\(phase)', but the database is in phase '\(now)'. Seeders run only after the migrator finished.")
        }
    }

    private func enterUnchecked(_ phase: Phase) {
        let now = ContinuousClock.now
        state.withLock { $0.append(phase, at: now) }
    }

    /// One line: `connecting 1.2 ms → ready 0.1 ms → …`.
    public var summary: String { events.map(\.description).joined(separator: " → ") }
}
