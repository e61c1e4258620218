import PostgresNIO
import PostgresTestKit

/// Runs `body` with a `PostgresClient` on the database at `details`: the client runs in a task
/// group, as PostgresNIO's documentation shows (`client.run()`), and is cancelled — its
/// connections closed — once `body` returns or throws.
@discardableResult
func withPostgresClient<T>(_ details: ConnectionDetails, _ body: (PostgresClient) async throws -> T) async throws -> T {
    let client = PostgresClient(configuration: .init(details), backgroundLogger: .tests)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}
