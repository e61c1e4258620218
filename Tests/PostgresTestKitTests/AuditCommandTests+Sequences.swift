import Testing
@testable import PostgresTestKit

extension AuditCommandTests {
    /// A `nextval` within the values a sequence already logged writes no WAL record and no log
    /// line: the audit finds it by comparing every sequence before and after the command. Its
    /// twin, a read of the same sequence, is in ``readsOnlyAreSilent()``.
    @Test func aNextvalWithinTheLoggedRangeIsFoundByTheSequencesState() async throws {
        guard try await embeddedOnly() else { return }
        try await withDevDatabase { dev in
            let setup = try await Connection.connect(to: try await server().connectionString, database: dev)
            _ = try await setup.execute("SELECT nextval('audit_counter')")   // logs the next 32 values ahead
            await setup.close()
            let run = try await audit("psql -q -c \"SELECT nextval('audit_counter')\" >/dev/null", database: dev)
            #expect(run.status != 0, "\(run.output)")
            #expect(run.output.contains("✗ write_to_foreign_database in database \(dev): unknown (sequence public.audit_counter moved from 1 to 2)"), "\(run.output)")
        }
    }
}
