import PostgresTestKit
import PostgresTestKitTesting
import Testing

/// The trait prepares its manager while Swift Testing plans the tests, before any of them
/// starts: the session is open and the warm pool adopted when the burst begins, and the time
/// is reported apart from the tests' set-up.
@Suite(.testDatabase(.notifications))
struct PreparedAheadTests {
    @Test func theManagerWasPreparedBeforeTheTestsStarted() async throws {
        _ = try #require(PostgresTestDatabase.current)
        #expect(RunReport.shared.snapshot.preparedAheadMilliseconds > 0)
        #expect(await TestDatabaseManager.notifications.prepared)
    }
}
