import Foundation

/// One bar of a timeline row: a phase, from `start` to `end`, in milliseconds since the Unix
/// epoch (the wall clock, so that the spans of several processes share one axis).
package struct TimelineSpan: Sendable, Codable, Equatable {
    /// Which part of the database's life.
    package var phase: TimelinePhase
    /// When it began (milliseconds since 1970, wall clock).
    package var start: Double
    /// When it ended (milliseconds since 1970, wall clock); never before `start`.
    package var end: Double
    /// Set when the pool did this ahead of the test, off its path (a pooled clone's create,
    /// connect and hooks); drawn paler. `nil` (not `false`) otherwise, to keep reports small.
    package var ahead: Bool?

    /// A span from `start` to `end` (an `end` before `start` becomes `start`).
    package init(_ phase: TimelinePhase, start: Double, end: Double) {
        self.phase = phase
        self.start = start
        self.end = max(start, end)
    }

    /// A span between two wall-clock dates.
    package init(_ phase: TimelinePhase, from start: Date, to end: Date) {
        self.init(phase, start: start.timelineMilliseconds, end: end.timelineMilliseconds)
    }

    /// How long it lasted, in milliseconds.
    package var duration: Double { end - start }
}

extension Date {
    /// Milliseconds since 1970: the timeline's time unit.
    package var timelineMilliseconds: Double { timeIntervalSince1970 * 1000 }

    /// The date `milliseconds` after 1970.
    package init(timelineMilliseconds milliseconds: Double) {
        self.init(timeIntervalSince1970: milliseconds / 1000)
    }
}
