/// The order in which a test process shuts down, as a value: first the run audit's last
/// reads (the WAL up to now, while the witness still exists), then the cleanup (databases
/// left behind are dropped), then the report (summary, JSON, annotations), then the run's
/// failure — recorded by the test framework where it can take one, else the exit status.
///
/// Whichever trigger comes first (XCTest's end of the bundle, or the process exit) does the
/// final read, the cleanup and the report; later triggers only clean up again and deliver a
/// failure not delivered yet. The failure is decided after the steps (``failure(on:runFails:)``):
/// the final read may be what fails the run.
package struct ShutdownSequence: Sendable, Equatable {
    /// What starts a shutdown.
    package enum Trigger: Sendable, Equatable {
        /// The test framework finished its tests and can record a failure of its own (XCTest).
        case testsFinished
        /// The process is exiting (`atexit`): only the exit status can fail the run.
        case processExit
    }

    /// One step of the shutdown.
    package enum Step: Sendable, Equatable {
        /// Read the run audit up to now: the statement log and the WAL (``ProcessShutdown``'s
        /// final reads), before the cleanup drops the WAL witness.
        case finalAudit
        /// Drop the databases this process left behind (``ExitCleanup``).
        case cleanup
        /// Print the summary and write the JSON report and annotations (``RunReport``).
        case report
        /// Hand the run's failure to the test framework, which fails its run with it.
        case recordFailure
        /// End the process with status 1.
        case exitWithFailure
    }

    /// Whether the final read, the cleanup and the report have been done.
    package private(set) var hasShutDown = false
    /// Whether the run's failure has been delivered (recorded or made the exit status).
    package private(set) var failureDelivered = false
    /// Whether the process exit has cleaned up (after the tests finished, work still under way
    /// then — a pool's refill, a witness being opened — may have made a database since).
    package private(set) var cleanedAtExit = false

    /// A process that has not begun shutting down.
    package init() {}

    /// The steps to take now, in order, for `trigger` (the failure comes after them, from
    /// ``failure(on:runFails:)``).
    package mutating func steps(on trigger: Trigger) -> [Step] {
        if !hasShutDown {
            hasShutDown = true
            cleanedAtExit = trigger == .processExit
            return [.finalAudit, .cleanup, .report]
        }
        if trigger == .processExit && !cleanedAtExit {
            cleanedAtExit = true
            return [.cleanup]
        }
        return []
    }

    /// The step that delivers the run's failure after ``steps(on:)`` were taken, once;
    /// `runFails` is whether the run has findings that fail it (the report's
    /// ``RunReport/Snapshot/failsRun``, read after the final read).
    package mutating func failure(on trigger: Trigger, runFails: Bool) -> Step? {
        guard runFails && !failureDelivered else { return nil }
        failureDelivered = true
        return trigger == .testsFinished ? .recordFailure : .exitWithFailure
    }
}
