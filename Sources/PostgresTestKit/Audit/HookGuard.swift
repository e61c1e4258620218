/// Runs connect hooks so that a write in one is caught and traced to its registration line.
///
/// Under `.fail` the hooks run in a read-only session: any write — INSERT/UPDATE/DELETE, DDL,
/// `nextval`, a function that writes — fails with SQLSTATE 25006 and becomes a violation.
/// Under `.warn` they run in a transaction and `pg_current_xact_id_if_assigned()` tells whether
/// they wrote; that sees row and DDL writes but not `nextval` (sequences are not
/// transactional), nor writes a hook makes through another connection.
struct HookGuard: Sendable {
    let hooks: [ConnectHook]
    let recorder: ViolationRecorder

    /// Runs the hooks that apply to this connection.
    ///
    /// - Parameters:
    ///   - migrated: whether the database's migrations have finished (false while building a
    ///     template), to explain a hook that queries tables that do not exist yet.
    ///   - admin: whether this is the admin connection (only `.everyConnection` hooks run).
    func run(on connection: Connection, database: String, phase: Phase, migrated: Bool, admin: Bool = false) async throws {
        let applicable = hooks.filter { !admin || $0.scope == .everyConnection }
        guard !applicable.isEmpty else { return }
        if admin {
            try await runOnAdmin(applicable, connection, database, phase)
            return
        }
        for hook in applicable {
            switch recorder.policy {
            case .off:
                do { try await execute(hook, on: connection) } catch { throw failure(hook, database, error) }
            case .fail:
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                do {
                    try await execute(hook, on: connection)
                } catch let error as PGError {
                    try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
                    try handle(error, hook, database, phase, migrated, admin)
                }
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            case .warn:
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
                try await connection.execute("BEGIN")
                do {
                    try await execute(hook, on: connection)
                    let wrote = try await connection.scalar("SELECT pg_current_xact_id_if_assigned() IS NOT NULL", as: Bool.self)
                    try await connection.execute("COMMIT")
                    if wrote {
                        recorder.record(violation(
                            admin ? .writeThroughAdminConnection : .writeInConnectHook, hook, database, phase,
                            statement: hook.name, sqlState: nil, pid: await connection.backendPID,
                            note: "the hook's transaction wrote (detected in warn mode; the write was kept)"))
                    }
                } catch let error as PGError {
                    _ = try? await connection.execute("ROLLBACK")
                    try handle(error, hook, database, phase, migrated, admin)
                }
            }
        }
    }

    /// On the admin connection a hook (scope `.everyConnection`) runs whatever the policy in a
    /// read-only transaction that is rolled back, and the session is reset afterwards: it can
    /// neither write to the maintenance database nor leave settings behind.
    private func runOnAdmin(_ hooks: [ConnectHook], _ connection: Connection, _ database: String, _ phase: Phase) async throws {
        for hook in hooks {
            try await connection.execute("BEGIN READ ONLY")
            do {
                try await execute(hook, on: connection)
                try await connection.execute("ROLLBACK")
            } catch let error as PGError {
                _ = try? await connection.execute("ROLLBACK")
                try await connection.execute("RESET ALL")
                try handle(error, hook, database, phase, true, true)
            }
            try await connection.execute("RESET ALL")
        }
    }

    private func execute(_ hook: ConnectHook, on connection: Connection) async throws {
        switch hook.body {
        case .sql(let sql): try await connection.simpleQuery(sql)
        case .closure(let body): try await body(connection)
        }
    }

    private func handle(
        _ error: PGError, _ hook: ConnectHook, _ database: String,
        _ phase: Phase, _ migrated: Bool, _ admin: Bool
    ) throws {
        let kind: LifecycleViolation.Kind
        let note: String
        switch error.sqlState {
        case "25006":
            kind = admin ? .writeThroughAdminConnection : .writeInConnectHook
            note = admin
                ? "a hook registered with scope .everyConnection wrote through the admin connection to the maintenance database; connect hooks are for session settings — move writes into a Seeder"
                : "connect hooks run while connecting, before migrations and seeders; move writes into a Seeder (it runs after migrations)"
        case let state? where !migrated && ["42P01", "42703", "3F000", "42883"].contains(state):
            kind = .hookQueriedBeforeMigrations
            note = "the hook used application tables while connecting to a database whose migrations have not run yet (\(error.message)); move it into a Seeder"
        default:
            throw failure(hook, database, error)
        }
        let violation = violation(kind, hook, database, phase, statement: error.statement ?? hook.name,
                                  sqlState: error.sqlState, pid: nil, note: note)
        if let failure = recorder.record(violation) { throw failure }
    }

    private func violation(
        _ kind: LifecycleViolation.Kind, _ hook: ConnectHook, _ database: String, _ phase: Phase,
        statement: String, sqlState: String?, pid: Int32?, note: String
    ) -> LifecycleViolation {
        LifecycleViolation(
            kind: kind, phase: phase, database: database, statement: statement, sqlState: sqlState,
            sessionPID: pid, source: hook.source, note: note)
    }

    private func failure(_ hook: ConnectHook, _ database: String, _ error: any Error) -> TestKitError {
        TestKitError(.hookFailed, "the connect hook '\(hook.name.prefix(120))' registered at \(hook.source) failed on database \(database): \(error)", underlying: error)
    }
}
