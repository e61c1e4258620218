extension TestDatabaseManager {
    /// Runs `body` with a test database of its own and releases it afterwards, also when
    /// `body` throws — then as a failed test's (kept under ``KeepPolicy/failed``) — and
    /// rethrows `body`'s error. For set-up code and frameworks without a test-scoping trait.
    nonisolated public func withTestDatabase<Result: Sendable>(
        testName: String? = nil, isolation: Isolation = .database,
        _ body: (PostgresTestDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try await acquire(testName: testName, isolation: isolation)
        let result: Result
        do {
            result = try await body(database)
        } catch {
            try? await database.release(testFailed: true)
            throw error
        }
        try await database.release()
        return result
    }
}
