import PostgresTestKit
import PostgresTestKitTesting
import Testing

/// The trait gives the timeline the test's name and its suite (the module and the suites it is
/// nested in), so that the picture groups the rows by suite.
@Suite(.testDatabase(.notifications))
struct TimelineRowTests {
    @Suite struct Nested {
        @Test func theRowCarriesTheTestAndItsNestedSuite() throws {
            let db = try #require(PostgresTestDatabase.current)
            let row = try #require(RunReport.shared.snapshot.timeline.rows.last { $0.database == db.name })
            #expect(row.test == "theRowCarriesTheTestAndItsNestedSuite()")
            #expect(row.suite == "PostgresTestKitTestingTests.TimelineRowTests/Nested")
            #expect(row.spans.map(\.phase).contains(.hooks))   // set-up drawn; the test's bar comes at release
        }
    }

    @Test(arguments: [1, 2]) func aParameterizedTestsCasesShareItsSuite(n: Int) throws {
        let db = try #require(PostgresTestDatabase.current)
        let row = try #require(RunReport.shared.snapshot.timeline.rows.last { $0.database == db.name })
        #expect(row.test == "aParameterizedTestsCasesShareItsSuite(n:)")
        #expect(row.suite == "PostgresTestKitTestingTests.TimelineRowTests")
    }
}
