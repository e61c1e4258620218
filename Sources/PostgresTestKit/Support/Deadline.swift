/// Bounded waiting: retry an operation while it fails in a way that passes, until a deadline.
enum Deadline {
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
