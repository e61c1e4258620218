import Testing
@testable import PostgresTestKit

extension AuditCommandTests {
    /// A `nextval` within the values a sequence already logged writes no WAL record and no log
    /// line: the audit finds it by comparing every sequence before and after the command. Its
    /// twin, a read of the same sequence, is in ``readsOnlyAreSilent()``. A checkpoint in
    /// between (another test's `FILE_COPY` create) makes that `nextval` log a record after all:
    /// then the WAL finds it, and the test says so.
    @Test func aNextvalWithinTheLoggedRangeIsFoundByTheSequencesState() async throws {
        guard try await embeddedOnly() else { return }
        try await withDevDatabase { dev in
            let setup = try await Connection.connect(to: try await server().connectionString, database: dev)
            let redo = "SELECT redo_lsn::text FROM pg_control_checkpoint()"
            let before = try await setup.scalar(redo, as: String.self)
            _ = try await setup.execute("SELECT nextval('audit_counter')")   // logs the next 32 values ahead
            let run = try await audit("psql -q -c \"SELECT nextval('audit_counter')\" >/dev/null", database: dev)
            let checkpointed = try await setup.scalar(redo, as: String.self) != before
            await setup.close()
            #expect(run.status != 0, "\(run.output)")
            let byState = run.output.contains("✗ write_to_foreign_database in database \(dev): unknown (sequence public.audit_counter moved from 1 to 2)")
            let byWAL = run.output.contains("✗ write_to_foreign_database in database \(dev): unknown (seen in the WAL: Sequence/LOG on relation")
            #expect(byState || (checkpointed && byWAL), "checkpoint in between: \(checkpointed)\n\(run.output)")
        }
    }
}
