import Foundation
import Testing
@testable import PostgresTestKit

/// The run audit's last WAL read is not lost when the process exits: a test process that
/// releases its last database and exits at once (no `shutdown()`, as a Swift Testing process
/// ends) still reads the WAL up to its exit, before the exit's cleanup drops the witness.
extension RunLogAuditProcessWindowTests {
    /// Holds a database, runs `during`, then releases it and exits within 8 ms.
    func runAndExitAtOnce(_ context: Context, _ during: [String]) async throws -> Outcome {
        let script = #"""
            out=$(mktemp); done=$(mktemp -u)
            "$PGTESTKIT_CLI" prepare --verbose --swift-migrations --acquire 1 --hold-seconds 60 --hold-until "$done" --exit-at-once --prefix "$PREFIX" >"$out" 2>&1 &
            pid=$!
            i=0
            until grep -q '^run audit reads the WAL' "$out" || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done
            """# + "\n" + during.joined(separator: "\n") + "\n" + #"""
            touch "$done"
            wait $pid; status=$?
            rm -f "$done"
            cat "$out"; rm -f "$out"
            exit $status
            """#
        let outcome = try await runTestProcess(context, script: script)
        #expect(outcome.output.contains("run audit reads the WAL: "), "\(outcome.output)")
        return outcome
    }

    /// A write only the WAL shows (inside a `DO` block), made just before the process's last
    /// release and exit: the exit's final read finds it, and under `.fail` the run fails.
    @Test func aWriteInTheLastMomentsBeforeTheExitIsAuditedAndFailsTheRun() async throws {
        try await withDevDatabase { context in
            let outcome = try await runAndExitAtOnce(context, [
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
            let outcome = try await runAndExitAtOnce(context, [
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
