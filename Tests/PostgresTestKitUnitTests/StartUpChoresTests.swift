import Foundation
import Logging
import Synchronization
import Testing
@testable import PostgresTestKit

/// The start-up chores run beside the tests: `begin` returns at once, a key runs once per
/// process, a failed chore is forgotten (the next session tries again), and `settle` — what
/// `shutdown()` and the exit call — waits for the chores under way. No server.
@Suite("StartUpChores")
struct StartUpChoresTests {
    static let logger = Logger(label: "StartUpChoresTests")

    /// A gate a chore waits at until the test opens it.
    final class Gate: Sendable {
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream() }
        func open() { continuation.finish() }
        func wait() async { for await _ in stream {} }
    }

    @Test func beginReturnsBeforeTheChoreEndsAndSettleWaitsForIt() async {
        let key = "test \(UUID())"
        let gate = Gate()
        let done = Mutex(false)
        StartUpChores.begin(key, logger: Self.logger) {
            await gate.wait()
            done.withLock { $0 = true }
        }
        #expect(done.withLock { $0 } == false, "begin does not wait for the chore")
        #expect(StartUpChores.settle(timeout: .milliseconds(50)) == false, "the exit's wait is bounded")
        gate.open()
        await StartUpChores.settle()
        #expect(done.withLock { $0 } == true)
        #expect(StartUpChores.settle(timeout: .seconds(5)) == true)
    }

    @Test func aKeyRunsOncePerProcess() async {
        let key = "test \(UUID())"
        let runs = Mutex(0)
        for _ in 0..<5 {
            StartUpChores.begin(key, logger: Self.logger) { runs.withLock { $0 += 1 } }
        }
        await StartUpChores.settle()
        StartUpChores.begin(key, logger: Self.logger) { runs.withLock { $0 += 1 } }   // done already
        await StartUpChores.settle()
        #expect(runs.withLock { $0 } == 1)
    }

    @Test func aFailedChoreIsForgottenSoTheNextSessionTriesAgain() async {
        struct Unreachable: Error {}
        let key = "test \(UUID())"
        let runs = Mutex(0)
        StartUpChores.begin(key, logger: Self.logger) {
            runs.withLock { $0 += 1 }
            throw Unreachable()
        }
        await StartUpChores.settle()
        StartUpChores.begin(key, logger: Self.logger) { runs.withLock { $0 += 1 } }
        await StartUpChores.settle()
        StartUpChores.begin(key, logger: Self.logger) { runs.withLock { $0 += 1 } }   // succeeded: not again
        await StartUpChores.settle()
        #expect(runs.withLock { $0 } == 2)
    }

    /// A session's trigger begins its chores once, and only when no acquire is under way in
    /// the process: a burst's set-up is not slowed by them.
    @Test func armedChoresBeginWhenTheAcquiresAreDoneAndOnce() {
        let begun = Mutex(0)
        let quiet = StartUpChores.Quiet()   // the process's counts every manager's acquires
        let trigger = StartUpChores.Trigger(waitingFor: quiet) { begun.withLock { $0 += 1 } }
        quiet.acquireStarted()
        quiet.acquireStarted()
        trigger.arm()   // its first database is out; another acquire is still under way
        trigger.arm()
        quiet.acquireEnded()
        #expect(begun.withLock { $0 } == 0, "one acquire is still under way")
        quiet.acquireEnded()
        #expect(begun.withLock { $0 } == 1, "the last acquire begins them")
        trigger.arm()
        trigger.fire()
        #expect(begun.withLock { $0 } == 1, "once per session")
        let lone = StartUpChores.Trigger(waitingFor: quiet) { begun.withLock { $0 += 1 } }
        lone.arm()   // no acquire under way
        #expect(begun.withLock { $0 } == 2)
    }
}
