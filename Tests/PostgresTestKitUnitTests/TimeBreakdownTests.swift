import Foundation
import Testing
@testable import PostgresTestKit

/// The set-up and release breakdown: its summary and its place in the JSON report.
@Suite("TimeBreakdown")
struct TimeBreakdownTests {
    @Test func theSummaryNamesTheLargestPartsFirstAndLeavesOutNothing() {
        var breakdown = TimeBreakdown()
        #expect(breakdown.summary.isEmpty)
        breakdown.create = 812.4
        breakdown.poolLease = 3.2
        breakdown.preparation = 95
        breakdown.leakCheck = 0.2   // under half a millisecond: left out
        #expect(breakdown.summary == "create 812 ms, preparation 95 ms, pool lease 3 ms")
    }

    @Test func theReportCarriesItAsJSON() throws {
        var snapshot = RunReport.Snapshot()
        snapshot.breakdown.connect = 12.5
        let json = try JSONEncoder().encode(snapshot)
        let decoded = try JSONDecoder().decode(RunReport.Snapshot.self, from: json)
        #expect(decoded.breakdown.connect == 12.5)
        #expect(String(decoding: json, as: UTF8.self).contains("\"breakdown\""))
    }
}
