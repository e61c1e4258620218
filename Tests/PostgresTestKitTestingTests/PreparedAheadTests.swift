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
        #expect(TestDatabaseManager.notifications.preparedAhead)
        #expect(RunReport.shared.snapshot.preparedAheadMilliseconds > 0)
        #expect(RunReport.shared.snapshot.timeline.rows.contains { $0.kind == .preparation && $0.spans.first?.phase == .preparation })
    }
}

extension TestDatabaseManager {
    /// A manager only a switched-off test names.
    static let switchedOff = TestDatabaseManager(prefix: "pgtkoff", migrations: .none)
}

/// A test its own condition switches off prepares nothing (no session, no server started),
/// even with the database trait before the condition.
@Suite struct SwitchedOffTestPreparesNothing {
    @Test(.testDatabase(.switchedOff), .disabled("never runs: its manager must not be prepared"))
    func neverRuns() {}

    @Test func itsManagerWasNotPrepared() {
        #expect(!TestDatabaseManager.switchedOff.preparedAhead)
    }
}
