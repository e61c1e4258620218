import PostgresTestKit
import Vapor
import VaporNotifications

/// Runs `body` with the app configured on the database at `details` and booted — as it starts
/// in production — and shuts it down afterwards, also when `body` throws (VaporTesting's
/// `withApp`, plus the database and the boot).
@discardableResult
func withNotificationsApp<T>(
    on details: ConnectionDetails, seedOnBoot: Bool = false, _ body: (Application) async throws -> T
) async throws -> T {
    let app = try await Application.make(.testing, logger: .tests)
    let result: T
    do {
        try await configure(app, database: .postgres(url: details.postgresKitURL), seedOnBoot: seedOnBoot)
        try await app.asyncBoot()
        result = try await body(app)
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
    return result
}
