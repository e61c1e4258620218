import Synchronization

/// A signal that fires once and stays fired: every waiter, past or future, goes on. The
/// manager's ahead-of-time preparation fires it when the session is open or when it knows a
/// template must be built (the caller need not wait for a build).
final class ReadySignal: Sendable {
    private struct State {
        var fired = false
        var begun = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Whether it has fired.
    var hasFired: Bool { state.withLock { $0.fired } }

    /// `true` the first time it is asked, `false` after: the one caller that starts the work
    /// whose end fires the signal.
    func begin() -> Bool {
        state.withLock { state in
            defer { state.begun = true }
            return !state.begun
        }
    }

    /// Fires: resumes the waiters; later calls do nothing.
    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once it has fired (at once when it already has).
    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
