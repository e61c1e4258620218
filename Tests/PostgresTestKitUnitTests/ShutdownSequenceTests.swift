import Testing
@testable import PostgresTestKit

/// The order of a test process's shutdown — the run audit's final read, the cleanup, the
/// report, then the run's failure — as a value: no process exits, no database is dropped.
@Suite("ShutdownSequence")
struct ShutdownSequenceTests {
    /// The final read comes before the cleanup, which drops the WAL witness it reads through.
    @Test func atTheProcessExitTheFinalReadComesFirstThenTheCleanupThenTheReportThenTheExitStatus() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .processExit) == [.finalAudit, .cleanup, .report])
        #expect(sequence.failure(on: .processExit, runFails: true) == .exitWithFailure)
    }

    @Test func aRunWithoutRunLevelFindingsLeavesTheExitStatusToTheTests() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .processExit) == [.finalAudit, .cleanup, .report])
        #expect(sequence.failure(on: .processExit, runFails: false) == nil)
        #expect(!sequence.failureDelivered)
    }

    /// The exit still drops what work under way after the tests made (a refill, a witness).
    @Test func whenXCTestFinishesFirstItRecordsTheFailureAndTheExitHookOnlyCleansUpAgain() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .testsFinished) == [.finalAudit, .cleanup, .report])
        #expect(sequence.failure(on: .testsFinished, runFails: true) == .recordFailure)
        #expect(sequence.steps(on: .processExit) == [.cleanup])
        #expect(sequence.failure(on: .processExit, runFails: true) == nil)
        #expect(sequence.steps(on: .processExit) == [])
    }

    /// The hook is registered once per server (to run before libcrypto's own exit handler):
    /// every registration runs, and only the first does the work.
    @Test func theExitHookRegisteredSeveralTimesReadsCleansUpAndReportsOnce() {
        var sequence = ShutdownSequence()
        _ = sequence.steps(on: .processExit)
        #expect(sequence.steps(on: .processExit) == [])
        #expect(sequence.steps(on: .processExit) == [])
        #expect(sequence.hasShutDown)
        #expect(!sequence.failureDelivered)
    }

    @Test func aFailureFoundAfterXCTestFinishedStillSetsTheExitStatus() {
        var sequence = ShutdownSequence()
        #expect(sequence.steps(on: .testsFinished) == [.finalAudit, .cleanup, .report])
        #expect(sequence.failure(on: .testsFinished, runFails: false) == nil)
        #expect(sequence.steps(on: .processExit) == [.cleanup])
        #expect(sequence.failure(on: .processExit, runFails: true) == .exitWithFailure)
        #expect(sequence.failureDelivered)
    }

    /// A later trigger with nothing left to clean still delivers a failure found since.
    @Test func aFailureIsDeliveredEvenWhenNoStepIsLeft() {
        var sequence = ShutdownSequence()
        _ = sequence.steps(on: .processExit)
        #expect(sequence.failure(on: .processExit, runFails: false) == nil)
        #expect(sequence.steps(on: .processExit) == [])
        #expect(sequence.failure(on: .processExit, runFails: true) == .exitWithFailure)
    }
}
