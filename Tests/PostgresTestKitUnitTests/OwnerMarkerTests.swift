import Foundation
import Testing
@testable import PostgresTestKit

/// The owner marker's round trip through `COMMENT ON DATABASE` text: no server.
@Suite("OwnerMarker")
struct OwnerMarkerTests {
    static let run = RunID(rawValue: "0123456789")

    @Test func aMarkerSurvivesTheRoundTripThroughItsComment() throws {
        var marker = OwnerMarker(kind: .template, run: Self.run, test: "placesOrder()", fingerprint: "ab12", label: "app")
        marker.kept = true
        marker.cloneStrategy = "FILE_COPY"
        marker.lastUsed = "2026-11-24T15:34:09Z"
        marker.recycling = "ok"
        marker.uses = 3
        let parsed = try #require(OwnerMarker(comment: marker.comment))
        #expect(parsed == marker)
    }

    /// A template's marker carries its baseline (what a reset restores) for every pool of it,
    /// in a short form: the empty tables' OIDs and `[oid, value, called]` per sequence.
    @Test func aTemplateMarkerCarriesItsBaseline() throws {
        var marker = OwnerMarker(kind: .template, run: Self.run, fingerprint: "ab12", label: "app")
        marker.recycling = "ok"
        marker.baseline = TemplateBaseline(
            emptyTables: [16_390, 16_385],
            sequences: [16_400: .init(value: 1, isCalled: false), 16_384: .init(value: -9_223_372_036_854_775_808, isCalled: true)])
        let comment = marker.comment
        #expect(comment.contains(#""baseline":{"empty":[16385,16390],"sequences":[[16384,-9223372036854775808,1],[16400,1,0]]}"#), "\(comment)")
        let parsed = try #require(OwnerMarker(comment: comment))
        #expect(parsed.baseline == marker.baseline)
        #expect(parsed == marker)
        // The rows of small tables (what a reset puts back) travel too; a baseline without
        // them (a template of schema 3) parses, with none.
        marker.baseline = TemplateBaseline(emptyTables: [16_390], sequences: [:],
                                           rows: [16_450: .init(columns: "code, \"Name\"", values: #"(r->>'code')::text, (r->>'Name')::text"#,
                                                                json: #"[{"code":"fr","Name":"l'été"}]"#)])
        let withRows = try #require(OwnerMarker(comment: marker.comment))
        #expect(withRows.baseline == marker.baseline)
        let schema3 = #"pgtestkit {"pgtestkit":1,"kind":"template","run":"r","pid":1,"host":"h","created":"c","baseline":{"empty":[16390],"sequences":[]}}"#
        let parsed3 = try #require(OwnerMarker(comment: schema3)?.baseline)
        #expect(parsed3.emptyTables == [16390] && parsed3.rows.isEmpty)
        // Rows in a form this version does not read: no rows, and still the toolkit's marker.
        let otherRows = schema3.replacingOccurrences(of: #""sequences":[]}"#, with: #""sequences":[],"rows":[{"oid":1,"json":"[]"}]}"#)
        #expect(try #require(OwnerMarker(comment: otherRows)?.baseline).rows.isEmpty)
        // A marker without one (a template built before) parses, with none.
        #expect(try #require(OwnerMarker(comment: OwnerMarker(kind: .template, run: Self.run).comment)).baseline == nil)
    }

    /// A baseline someone edited into nonsense makes the comment no marker of ours (the
    /// toolkit then leaves that database alone, as with any other malformed field).
    @Test(arguments: [
        #""baseline":{"empty":[1],"sequences":[[16384,1]]}"#,
        #""baseline":{"empty":[1],"sequences":[[16384,1,2]]}"#,
        #""baseline":{"empty":[-1],"sequences":[]}"#,
        #""baseline":{"sequences":[]}"#,
    ])
    func aMalformedBaselineIsNoMarker(baseline: String) {
        let comment = #"pgtestkit {"pgtestkit":1,"kind":"template","run":"r","pid":1,"host":"h","created":"c","#
            + baseline + "}"
        #expect(OwnerMarker(comment: comment) == nil)
    }

    @Test(arguments: [OwnerMarker.Kind.clone, .template, .scratch])
    func everyKindSurvivesTheRoundTrip(kind: OwnerMarker.Kind) {
        let marker = OwnerMarker(kind: kind, run: Self.run)
        #expect(OwnerMarker(comment: marker.comment)?.kind == kind)
    }

    /// The exit cleanup and the reaper find markers with `LIKE 'pgtestkit %'`.
    @Test func theCommentIsThePrefixAndOneLineOfJSONWithSortedKeys() {
        let comment = OwnerMarker(kind: .clone, run: Self.run, test: "t").comment
        #expect(comment.hasPrefix("pgtestkit {\"created\":"))
        #expect(!comment.contains("\n"))
        #expect(comment.contains(#""kind":"clone""#) && comment.contains(#""run":"0123456789""#) && comment.contains(#""test":"t""#))
    }

    @Test(arguments: [
        nil, "", "pgtestkit", "pgtestkit ", "pgtestkit {", "my database", #"pgtestkit {"kind":"clone"}"#,
        #"pgtestkit {"pgtestkit":1,"kind":"museum","run":"r","pid":1,"host":"h","created":"c"}"#,
        #"{"pgtestkit":1,"kind":"clone","run":"r","pid":1,"host":"h","created":"c"}"#,
    ])
    func aCommentThatIsNotAWholeMarkerIsNoMarker(comment: String?) {
        #expect(OwnerMarker(comment: comment) == nil)
    }

    @Test func aMarkerOfAnOlderOrNewerToolkitStillParses() throws {
        let older = try #require(OwnerMarker(comment: #"pgtestkit {"pgtestkit":1,"kind":"clone","run":"r","pid":7,"host":"h","created":"2026-01-01T00:00:00Z"}"#))
        #expect(older.test == nil && older.recycling == nil && older.pid == 7)
        let newer = try #require(OwnerMarker(comment: #"pgtestkit {"pgtestkit":2,"kind":"scratch","run":"r","pid":7,"host":"h","created":"c","shard":4}"#))
        #expect(newer.kind == .scratch && newer.pgtestkit == 2)
    }

    @Test func aNewMarkerNamesThisProcessThisHostAndNow() throws {
        let marker = OwnerMarker(kind: .clone, run: Self.run)
        #expect(marker.pid == ProcessInfo.processInfo.processIdentifier)
        #expect(marker.isFromThisHost)
        let created = try #require(marker.createdDate)
        #expect(abs(created.timeIntervalSinceNow) < 60)
    }

    @Test func aMarkerFromAnotherHostOrPIDNamespaceIsNotFromThisHost() {
        var marker = OwnerMarker(kind: .clone, run: Self.run)
        marker.host = "elsewhere"
        #expect(!marker.isFromThisHost)
        marker = OwnerMarker(kind: .clone, run: Self.run)
        marker.pidNamespace = "pid:[1]"
        #expect(!marker.isFromThisHost || OwnerMarker.thisPIDNamespace == "pid:[1]")
    }

    @Test func aTemplateNeverPreparedFromSinceCountsAsLastUsedAtItsCreation() throws {
        var marker = OwnerMarker(kind: .template, run: Self.run)
        #expect(marker.lastUsedDate == marker.createdDate)
        marker.lastUsed = "2030-01-02T03:04:05Z"
        #expect(marker.lastUsedDate == ISO8601DateFormatter().date(from: "2030-01-02T03:04:05Z"))
    }

    /// Markers written by earlier versions (an `ISO8601DateFormatter`) read the same.
    @Test func markerTimesAgreeWithTheFormatterEarlierVersionsWrote() throws {
        let date = Date(timeIntervalSince1970: 1_764_646_214)
        let earlier = ISO8601DateFormatter().string(from: date)
        #expect(OwnerMarker.timestamp(date) == earlier)
        #expect(OwnerMarker.date(fromTimestamp: earlier) == date)
        #expect(OwnerMarker.date(fromTimestamp: "yesterday") == nil)
    }
}
