import Foundation
import Testing
@testable import PostgresTestKit

extension AuditCommandTests {
    /// `pgtestkit audit` around a test process that uses the toolkit on the same embedded
    /// server (its manager pinned to it, not to the DATABASE_URL the audit sets): both audits
    /// see the process's write into the dev database; it is listed once — by the test process's own
    /// summary — and the outer audit says so instead of listing it again. Its twin: a write the
    /// inner audit could not see (made before the test process started) is still listed.
    /// The same when the caller names the reports' path (`PGTESTKIT_REPORT`): the test
    /// process's report is written there, and read from there.
    @Test(arguments: [false, true])
    func aFindingTheTestProcessReportedItselfIsListedOnce(callerNamesTheReport: Bool) async throws {
        guard try await embeddedOnly() else { return }
        try await withDevDatabase { dev in
            let prefix = TestSupport.uniquePrefix("aud")
            let script = #"""
                psql -q -c "INSERT INTO audit_notes (body) VALUES ('before the test process')"
                out=$(mktemp); done=$(mktemp -u)
                env -u DATABASE_URL -u PGHOST -u PGPORT -u PGDATABASE "\#(Self.executable)" prepare --swift-migrations --acquire 1 --hold-seconds 60 --hold-until "$done" --prefix \#(prefix) >"$out" 2>&1 &
                pid=$!
                i=0
                until grep -q '^run audit reads the WAL' "$out" || ! kill -0 $pid 2>/dev/null || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done
                psql -q -c "INSERT INTO audit_notes (body) VALUES ('during the test process')"
                touch "$done"; wait $pid
                cat "$out"; rm -f "$out" "$done"
                """#
            var environment = Self.environment
            environment["PGTESTKIT_AUDIT"] = "warn"
            let callerReports = FileManager.default.temporaryDirectory.appendingPathComponent("pgtk-caller-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: callerReports, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: callerReports) }
            environment["PGTESTKIT_REPORT"] = callerNamesTheReport ? callerReports.path + "/report-%p.json" : nil
            let run = try await audit(script, database: dev, environment: environment)
            let written = (try? FileManager.default.contentsOfDirectory(atPath: callerReports.path)) ?? []
            #expect(written.count == (callerNamesTheReport ? 1 : 0), "the test process's report goes where the caller said: \(written)")
            // The outer audit's own list comes after its summary line; the inner one is above it.
            let (inner, outer) = Self.report(in: run.output)
            #expect(inner.contains("✗ write_to_foreign_database in database \(dev): INSERT INTO audit_notes (body) VALUES ('during the test process')"), "\(run.output)")
            #expect(outer.contains("1 of them the test process's own PostgresTestKit audit reported already"), "\(run.output)")
            #expect(!outer.contains("✗ write_to_foreign_database in database \(dev): INSERT INTO audit_notes (body) VALUES ('during the test process')"), "\(run.output)")
            #expect(outer.contains("✗ write_to_foreign_database in database \(dev): INSERT INTO audit_notes (body) VALUES ('before the test process')"), "\(run.output)")
            #expect(run.status != 0, "the findings still fail the audit: \(run.output)")
        }
    }
}
