import Testing
@testable import PostgresTestKit

/// The order of a test process's shutdown — cleanup, report, then the run's failure — as a
/// value: no process exits, no database is dropped.
@Suite("ShutdownSequence")
struct ShutdownSequenceTests {
    @Test func atTheProcessExitTheCleanupComesFirstThenTheReportThenTheExitStatus() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .processExit, runFails: true) == [.cleanup, .report, .exitWithFailure])
    }

    @Test func aRunWithoutRunLevelFindingsLeavesTheExitStatusToTheTests() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .processExit, runFails: false) == [.cleanup, .report])
    }

    /// The exit still drops what work under way after the tests made (a refill, a witness).
    @Test func whenXCTestFinishesFirstItRecordsTheFailureAndTheExitHookOnlyCleansUpAgain() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .testsFinished, runFails: true) == [.cleanup, .report, .recordFailure])
        #expect(sequence.steps(on: .processExit, runFails: true) == [.cleanup])
        #expect(sequence.steps(on: .processExit, runFails: true) == [])
    }

    /// The hook is registered once per server (to run before libcrypto's own exit handler):
    /// every registration runs, and only the first does the work.
    @Test func theExitHookRegisteredSeveralTimesCleansUpAndReportsOnce() {
        var sequence = ShutdownSequence()
        _ = sequence.steps(on: .processExit, runFails: false)
        #expect(sequence.steps(on: .processExit, runFails: false) == [])
        #expect(sequence.steps(on: .processExit, runFails: false) == [])
        #expect(sequence.hasShutDown)
        #expect(!sequence.failureDelivered)
    }

    @Test func aFailureFoundAfterXCTestFinishedStillSetsTheExitStatus() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .testsFinished, runFails: false) == [.cleanup, .report])
        #expect(sequence.steps(on: .processExit, runFails: true) == [.cleanup, .exitWithFailure])
        #expect(sequence.failureDelivered)
    }
}
