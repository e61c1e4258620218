import Foundation
import Testing
@testable import PostgresTestKit

/// The run audit's last WAL read is not lost when the process exits: a test process that
/// releases its last database and exits at once (no `shutdown()`, as a Swift Testing process
/// ends) still reads the WAL up to its exit, before the exit's cleanup drops the witness.
extension RunLogAuditProcessWindowTests {
    /// A write only the WAL shows (inside a `DO` block), made just before the process's last
    /// release and exit: the exit's final read finds it, and under `.fail` the run fails.
    @Test func aWriteInTheLastMomentsBeforeTheExitIsAuditedAndFailsTheRun() async throws {
        try await withDevDatabase { context in
            let outcome = try await runWhileHolding(context, exitAtOnce: true, [
                Self.psql(#"DO \$\$ BEGIN INSERT INTO notification_types VALUES ('just before the exit'); END \$\$"#, database: context.dev),
            ])
            guard outcome.readsWAL else {   // no pg_walinspect (the pgserver 16 wheel): the log audit alone
                #expect(outcome.output.contains("the run audit reads the statement log only"), "\(outcome.output)")
                return
            }
            let found = outcome.devFindings(context.dev).filter { $0.kind == .writeToForeignDatabase }
            #expect(found.contains { ($0.statement ?? "").contains("seen in the WAL") && ($0.statement ?? "").contains("notification_types") },
                    "\(outcome.output)")
            #expect(!outcome.output.contains("could not read the WAL"), "\(outcome.output)")
            let violations = outcome.report?.violations ?? []
            #expect(!violations.contains { $0.kind == .walNotAudited }, "\(violations)")
            #expect(outcome.status == 1, "under .fail the run fails: \(outcome.output)")
        }
    }

    /// Its clean twin: only reads before the exit; the final read runs and finds nothing.
    @Test func aReadInTheLastMomentsBeforeTheExitLeavesTheRunGreen() async throws {
        try await withDevDatabase { context in
            let outcome = try await runWhileHolding(context, exitAtOnce: true, [
                Self.psql("SELECT count(*) FROM notification_types", database: context.dev),
            ])
            #expect(outcome.report != nil, "\(outcome.output)")
            let violations = outcome.report?.violations ?? []
            #expect(violations.isEmpty, "\(violations)")
            #expect(!outcome.output.contains("could not read the WAL"), "\(outcome.output)")
            #expect(outcome.status == 0, "\(outcome.output)")
        }
    }
}
