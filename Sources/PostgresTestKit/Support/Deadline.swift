import Foundation

/// Bounded waiting: retry an operation while it fails in a way that passes, or look again
/// until what is looked at is as wanted — until a deadline.
enum Deadline {
    /// Runs `body` every `interval` until `done` holds for what it returns, for at most
    /// `limit`; returns the last value either way (the caller says what a timeout means).
    static func poll<T: Sendable>(
        for limit: Duration, every interval: Duration = .milliseconds(10),
        isolation: isolated (any Actor)? = #isolation,
        until done: (T) -> Bool, _ body: () async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + limit
        while true {
            let value = try await body()
            if done(value) || ContinuousClock.now >= deadline { return value }
            try await Task.sleep(for: interval)
        }
    }

    /// Runs `body` until it succeeds, retrying every `interval` while `transient` says the
    /// error will pass, for at most `limit`; then the last error is thrown.
    static func retry<T: Sendable>(
        for limit: Duration, every interval: Duration = .milliseconds(20),
        while transient: (any Error) -> Bool, _ body: () async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                return try await body()
            } catch where transient(error) && ContinuousClock.now + interval < deadline {
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Runs `work` in a task of its own and blocks this thread until it ends, for at most
    /// `limit`; returns whether it ended. For the process exit, which has no async context
    /// (called on a thread of the cooperative pool it takes that thread from the work).
    static func waitBlocking(for limit: Duration, _ work: @escaping @Sendable () async -> Void) -> Bool {
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await work()
            finished.signal()
        }
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        return finished.wait(timeout: .now() + seconds) == .success
    }
}
