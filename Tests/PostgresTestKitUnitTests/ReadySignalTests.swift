import Synchronization
import Testing
@testable import PostgresTestKit

/// The signal a preparation ahead of the tests waits on: it fires once, releases every
/// waiter (those before and those after), and only its first `begin` starts the work. No server.
@Suite("ReadySignal")
struct ReadySignalTests {
    /// A count the waiting tasks share.
    final class Count: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var now: Int { value.withLock { $0 } }
    }

    @Test func waitersBeforeAndAfterTheFireGoOn() async {
        let signal = ReadySignal()
        let released = Count()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    await signal.wait()
                    released.add()
                }
            }
            // None goes on before the fire (they are all waiting, or about to).
            try? await Task.sleep(for: .milliseconds(20))
            #expect(released.now == 0)
            #expect(!signal.hasFired)
            signal.fire()
            signal.fire()   // a second fire changes nothing
        }
        #expect(released.now == 5)
        await signal.wait()   // after the fire: at once
        #expect(signal.hasFired)
    }

    @Test func onlyTheFirstBeginStartsTheWork() {
        let signal = ReadySignal()
        #expect(signal.begin())
        #expect(!signal.begin())
        #expect(!signal.begin())
    }
}
