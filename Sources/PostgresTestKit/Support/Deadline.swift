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
}
