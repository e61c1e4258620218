import Foundation
import Testing
@testable import PostgresTestKit

/// The run audit reads the WAL beside the statement log: writes the log never shows — or
/// shows from a session that calls itself the toolkit's — are found by the database they
/// changed, and toolkit databases are known by their owner marker, not their names.
///
/// Each test runs a fresh test process (`pgtestkit prepare --acquire 1 --hold-until FILE`)
/// against the suite's private server; while it holds its test database, "the app" writes
/// (or only reads) with `psql`, and the process's report is judged.
extension RunLogAuditProcessWindowTests {
    /// The test process, with `during` run while it holds its database (after it said whether
    /// its run audit reads the WAL).
    /// `exitAtOnce`: the process exits within 8 ms of its release, without `shutdown()`.
    func runWhileHolding(_ context: Context, exitAtOnce: Bool = false, _ during: [String]) async throws -> Outcome {
        let script = #"""
            out=$(mktemp); done=$(mktemp -u)
            "$PGTESTKIT_CLI" prepare --verbose --swift-migrations --acquire 1 --hold-seconds 60 --hold-until "$done" $EXIT_AT_ONCE --prefix "$PREFIX" >"$out" 2>&1 &
            pid=$!
            i=0
            until grep -q '^run audit reads the WAL' "$out" || [ $i -gt 1200 ]; do sleep 0.05; i=$((i+1)); done
            """# + "\n" + during.joined(separator: "\n") + "\n" + #"""
            touch "$done"   # the app is done: the test process releases its database and ends
            wait $pid; status=$?
            rm -f "$done"
            cat "$out"; rm -f "$out"
            exit $status
            """#
        let outcome = try await runTestProcess(context, script: script, environment: ["EXIT_AT_ONCE": exitAtOnce ? "--exit-at-once" : ""])
        #expect(outcome.output.contains("run audit reads the WAL: "), "\(outcome.output)")
        return outcome
    }

    static func psql(_ sql: String, database: String, application: String = "the-app") -> String {
        #"psql -X -q -v ON_ERROR_STOP=1 "$(echo "$DEV_CONNINFO" | sed 's/dbname=[^ ]*/dbname=\#(database)/; s/application_name=[^ ]*/application_name=\#(application)/')" -c "\#(sql)""#
    }

    @Test func writesTheStatementLogMissesAreFoundInTheWAL() async throws {
        try await withDevDatabase { context in
            let setup = try await Connection.connect(to: context.server.connectionString)
            try await setup.execute("CREATE TABLE IF NOT EXISTS app_audit_probe (x int)")   // in postgres: the admin database
            await setup.close()
            let app = try await Connection.connect(to: ConnectionString(context.devConnInfo))
            try await app.execute("CREATE TABLE audit_trail (entry text)")
            await app.close()
            let outcome = try await runWhileHolding(context, [
                Self.psql(#"DO \$\$ BEGIN INSERT INTO notification_types VALUES ('from a DO block'); END \$\$"#, database: context.dev),
                // A session that names itself as the toolkit's: the log audit leaves it out.
                Self.psql("INSERT INTO audit_trail VALUES ('claims to be the toolkit')", database: context.dev, application: "pgtestkit-admin:0123456789"),
                Self.psql(#"DO \$\$ BEGIN INSERT INTO app_audit_probe VALUES (1); END \$\$"#, database: "postgres"),
            ])
            let setupAgain = try await Connection.connect(to: context.server.connectionString)
            try await setupAgain.execute("DROP TABLE IF EXISTS app_audit_probe")
            await setupAgain.close()
            guard outcome.readsWAL else {
                // No pg_walinspect (the pgserver 16 wheel): said once, and the log audit alone runs.
                #expect(outcome.output.contains("the run audit reads the statement log only"), "\(outcome.output)")   // said (notice)
                #expect(outcome.status == 0, "\(outcome.output)")
                return
            }
            let dev = outcome.devFindings(context.dev).filter { $0.kind == .writeToForeignDatabase }
            #expect(dev.contains { $0.statement?.hasPrefix("unknown (seen in the WAL: Heap/INSERT") == true && $0.statement?.contains("notification_types") == true },
                    "\(outcome.report?.violations ?? [])")
            #expect(dev.contains { $0.statement?.hasPrefix("unknown (seen in the WAL:") == true && $0.statement?.contains("audit_trail") == true },
                    "a session named like the toolkit's is no way out: \(outcome.report?.violations ?? [])")
            var probed = false
            for violation in outcome.report?.violations ?? [] where violation.kind == .writeToMaintenanceDatabase && violation.database == "postgres" {
                if (violation.statement ?? "").contains("app_audit_probe") { probed = true }
            }
            #expect(probed, "\((outcome.report?.violations ?? []).map { "\($0.kind.rawValue) \($0.database): \($0.statement ?? "")" })")
            #expect(outcome.status == 1, "under .fail the run fails: \(outcome.output)")
        }
    }

    @Test func readsAndMaintenanceOfTheDevDatabaseLeaveNoWALFinding() async throws {
        try await withDevDatabase { context in
            let app = try await Connection.connect(to: ConnectionString(context.devConnInfo))
            try await app.execute("INSERT INTO notification_types SELECT 'row ' || g FROM generate_series(1, 200) g")
            try await app.execute("DELETE FROM notification_types WHERE name LIKE 'row 1%'")   // dead rows: pruning and vacuum work
            await app.close()
            let outcome = try await runWhileHolding(context, [
                Self.psql("SELECT count(*) FROM notification_types", database: context.dev),
                Self.psql("SELECT * FROM notification_types WHERE name = 'row 2' FOR UPDATE", database: context.dev),
                Self.psql("VACUUM (ANALYZE) notification_types", database: context.dev),
                Self.psql("SELECT count(*) FROM pg_class", database: "postgres"),
            ])
            #expect(outcome.report != nil, "\(outcome.output)")
            let writes = (outcome.report?.violations ?? []).filter { [.writeToForeignDatabase, .writeToMaintenanceDatabase].contains($0.kind) }
            #expect(writes.isEmpty, "readsWAL: \(outcome.readsWAL): \(writes)")
            #expect(outcome.status == 0, "\(outcome.output)")
        }
    }

    @Test func aDatabaseNamedLikeTheToolkitsButUnmarkedIsForeign() async throws {
        try await withDevDatabase { context in
            // `shop_2024061501`: ten digits, the shape of a toolkit run id — but no owner marker.
            let shop = "shop_" + String(UInt64.random(in: 1_000_000_000..<10_000_000_000))
            let setup = try await Connection.connect(to: context.server.connectionString)
            try await setup.execute("CREATE DATABASE \(shop)")
            let table = try await Connection.connect(to: context.server.connectionString, database: shop)
            try await table.execute("CREATE TABLE orders (id int)")
            await table.close()
            let outcome = try await runWhileHolding(context, [Self.psql("INSERT INTO orders VALUES (1)", database: shop)])
            _ = try? await setup.execute("DROP DATABASE IF EXISTS \(shop) WITH (FORCE)")
            await setup.close()
            let flagged = (outcome.report?.violations ?? []).filter { $0.database == shop && $0.kind == .writeToForeignDatabase }
            #expect(flagged.contains { $0.statement == "INSERT INTO orders VALUES (1)" }, "\(outcome.output)")
            if outcome.readsWAL {   // the WAL's change on orders is the logged INSERT's: not reported twice
                #expect(flagged.count == 1, "\(flagged)")
            }
            #expect(outcome.status == 1, "\(outcome.output)")
        }
    }
}
