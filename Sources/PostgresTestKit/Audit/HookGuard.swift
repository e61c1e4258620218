/// Runs connect hooks so that a write in one is caught and traced to its registration line.
///
/// Every hook runs inside a transaction the guard opened, whose identity (the backend's virtual
/// transaction id) is read at once — which also takes the transaction's first snapshot, after
/// which `SET TRANSACTION READ WRITE` is refused. Under `.fail` the transaction is read-only
/// (and so is the session's default, for whatever runs after a hook's own `COMMIT`): any write
/// — INSERT/UPDATE/DELETE, DDL, `CREATE TEMP TABLE`, `nextval`, a function that writes,
/// `SELECT … FOR UPDATE` — fails with SQLSTATE 25006 and becomes a violation. Under `.warn` it
/// is read-write and the guard looks afterwards: an assigned xid, or a row lock
/// (`RowExclusiveLock`/`RowShareLock`) on any table, is a write; it is reported and kept. That
/// sees row and DDL writes, zero-row ones and `FOR UPDATE` included, but not `nextval`
/// (sequences are not transactional), nor writes a hook makes through another connection.
///
/// The two policies agree on the borderline cases: a temporary table created in a hook is
/// flagged under both (it is a catalog write into the test database, and a hook is for session
/// settings), and so is `SELECT … FOR UPDATE`/`FOR SHARE`, even when it locks no row — it is a
/// read that takes row locks, which are writes to the rows and would end with the guard's
/// transaction anyway. `SET`, `SET LOCAL` (a no-op once the guard's transaction ends) and plain
/// `SELECT`s are clean.
///
/// After the hook the guard checks that its transaction is still the one it opened, still
/// read-only under `.fail`: a hook that ended it (`COMMIT; INSERT …`), replaced it
/// (`COMMIT; BEGIN READ WRITE; …`) or tried to upgrade it (`SET TRANSACTION READ WRITE`,
/// `BEGIN READ WRITE`) is a ``LifecycleViolation/Kind/hookEscapedGuard`` violation under every
/// policy but `.off`. Whatever transaction such a hook left open is rolled back under `.fail`
/// and committed under `.warn` (which reports but does not change what the hook did).
struct HookGuard: Sendable {
    let hooks: [ConnectHook]
    let recorder: ViolationRecorder

    /// Runs the hooks on a new connection of a test database and hands the connection back,
    /// or closes it when they fail (a connection a caller never gets is a leak).
    func runOrClose(_ connection: Connection, database: String, phase: Phase = .connecting, migrated: Bool = true) async throws -> Connection {
        do {
            try await run(on: connection, database: database, phase: phase, migrated: migrated)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

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
                    try await guarded(hook, connection, database, phase, migrated, admin: false, readOnly: true, keep: true)
                } catch {
                    _ = try? await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
                    throw error
                }
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            case .warn:
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
                try await guarded(hook, connection, database, phase, migrated, admin: false, readOnly: false, keep: true)
            }
        }
    }

    /// On the admin connection a hook (scope `.everyConnection`) runs whatever the policy in a
    /// read-only transaction that is rolled back, and the session is reset afterwards: it can
    /// neither write to the maintenance database nor leave settings behind.
    private func runOnAdmin(_ hooks: [ConnectHook], _ connection: Connection, _ database: String, _ phase: Phase) async throws {
        for hook in hooks {
            do {
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                try await guarded(hook, connection, database, phase, true, admin: true, readOnly: true, keep: false)
            } catch {
                _ = try? await connection.execute("RESET ALL")
                throw error
            }
            try await connection.execute("RESET ALL")
        }
    }

    /// What the guard reads about the transaction the hook runs in.
    private struct TransactionState {
        /// The backend's virtual transaction id (`backend/local`, never reused in a session)
        /// and the transaction's start time (in microseconds: independent of `TimeZone` and
        /// `DateStyle`, which a hook may set).
        let id: String
        let readOnly: Bool
        let xidAssigned: Bool
        /// Row-level table locks held (`RowExclusiveLock`: a write, even of no row;
        /// `RowShareLock`: `SELECT … FOR UPDATE/SHARE`).
        let rowLocks: String?
        /// Whether the statement runs in a transaction of its own (no transaction block open).
        let ownTransaction: Bool

        static let query = """
            SELECT coalesce((SELECT virtualxid FROM pg_locks WHERE locktype = 'virtualxid' AND pid = pg_backend_pid() AND granted LIMIT 1), '?')
                     || ' ' || (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint,
                   current_setting('transaction_read_only') = 'on',
                   pg_current_xact_id_if_assigned() IS NOT NULL,
                   (SELECT string_agg(DISTINCT mode, ', ' ORDER BY mode) FROM pg_locks
                     WHERE pid = pg_backend_pid() AND locktype = 'relation' AND mode IN ('RowExclusiveLock', 'RowShareLock')),
                   transaction_timestamp() = statement_timestamp()
            """

        init(_ result: QueryResult) throws {
            guard let row = result.rows.first else {
                throw PGError(code: .decoding, message: "the hook guard's transaction query returned no row")
            }
            id = try row.decode(String.self, at: 0)
            readOnly = try row.decode(Bool.self, at: 1)
            xidAssigned = try row.decode(Bool.self, at: 2)
            rowLocks = try row.decode(String?.self, at: 3)
            ownTransaction = try row.decode(Bool.self, at: 4)
        }
    }

    /// Runs one hook in a transaction of the guard's own and checks it afterwards.
    ///
    /// - Parameters:
    ///   - readOnly: `BEGIN READ ONLY` (`.fail`, admin) or `READ WRITE` (`.warn`).
    ///   - keep: commit the guard's transaction when the hook was clean (its session settings
    ///     stay), or roll it back (admin: nothing stays).
    private func guarded(
        _ hook: ConnectHook, _ connection: Connection, _ database: String, _ phase: Phase, _ migrated: Bool,
        admin: Bool, readOnly: Bool, keep: Bool
    ) async throws {
        // One round trip: the transaction, its identity, and its first snapshot.
        let opened = try TransactionState(
            try await connection.simpleQuery("BEGIN \(readOnly ? "READ ONLY" : "READ WRITE"); \(TransactionState.query)"))
        var hookError: (any Error)?
        do { try await execute(hook, on: connection) } catch { hookError = error }

        // After a failed statement the guard's transaction (or one the hook began) is aborted
        // and the query fails with 25P02; otherwise it says which transaction this is.
        var after: TransactionState?
        do {
            after = try TransactionState(try await connection.simpleQuery(TransactionState.query))
        } catch let error as PGError where error.sqlState == .inFailedSQLTransaction {
            after = nil
        } catch {
            _ = try? await connection.execute("ROLLBACK")
            throw error
        }

        var failure: TestKitError?
        if let after, after.id != opened.id || (readOnly && !after.readOnly) {
            let what: String
            if after.id != opened.id {
                what = after.ownTransaction
                    ? "ended the guard's transaction (COMMIT, ROLLBACK or END), so what followed ran outside it"
                    : "replaced the guard's transaction with one of its own (COMMIT; BEGIN …)"
            } else {
                what = "made the guard's read-only transaction read-write"
            }
            let kept = !readOnly && after.id != opened.id && !after.ownTransaction
            failure = recorder.record(violation(
                .hookEscapedGuard, hook, database, phase, statement: hook.name, sqlState: nil, pid: await connection.backendPID,
                note: "the hook \(what); connect hooks run in a transaction the toolkit opens\(readOnly ? " read-only" : "") to tell session set-up from writes — no COMMIT, ROLLBACK, BEGIN or SET TRANSACTION in a hook\(kept ? " (warn mode: the hook's own transaction was committed)" : "")"))
        }
        let escaped = after.map { $0.id != opened.id } ?? false
        // Whatever transaction is open now (the guard's, or the hook's own) is ended: kept
        // (committed) only when it is the guard's own and clean, or under warn.
        let commit = keep && (!readOnly || (hookError == nil && !escaped && failure == nil))
        if commit, after != nil {
            try await connection.execute("COMMIT")
        } else {
            _ = try? await connection.execute("ROLLBACK")
        }

        if let hookError {
            guard let error = hookError as? PGError else { throw self.failure(hook, database, hookError) }
            try handle(error, hook, database, phase, migrated, admin)
        } else if after == nil {
            throw self.failure(hook, database, PGError(
                code: .server, message: "the hook left the guard's transaction aborted (it caught an error of its own); it was rolled back",
                sqlState: .inFailedSQLTransaction))
        } else if let after, !escaped, after.xidAssigned || after.rowLocks != nil {
            let how = after.xidAssigned ? "the hook's transaction wrote" : "the hook's transaction took row locks (\(after.rowLocks ?? ""))"
            let written = violation(
                admin ? .writeThroughAdminConnection : .writeInConnectHook, hook, database, phase,
                statement: hook.name, sqlState: nil, pid: await connection.backendPID,
                note: readOnly
                    ? "\(how) (a temporary table); connect hooks are for session settings — move writes into a Seeder"
                    : "\(how) (detected in warn mode; the write was kept)")
            if let error = recorder.record(written), failure == nil { failure = error }
        }
        if let failure { throw failure }
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
        case .readOnlySQLTransaction?:
            kind = admin ? .writeThroughAdminConnection : .writeInConnectHook
            note = admin
                ? "a hook registered with scope .everyConnection wrote through the admin connection to the maintenance database; connect hooks are for session settings — move writes into a Seeder"
                : migrated
                    ? "connect hooks run on every connection to the test database, a clone born migrated and seeded; they are for session settings — move writes into a Seeder (scope .perTest for data each test needs)"
                    : "connect hooks run while connecting, before migrations and seeders; move writes into a Seeder (it runs after migrations)"
        case .activeSQLTransaction?:
            kind = .hookEscapedGuard
            note = "the hook tried to leave the guard's transaction (\(error.message)): SET TRANSACTION READ WRITE, BEGIN READ WRITE, or a command that cannot run inside a transaction block; connect hooks are for session settings — move writes into a Seeder"
        case let state? where !migrated && SQLState.missingObject.contains(state):
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
        statement: String, sqlState: SQLState?, pid: Int32?, note: String
    ) -> LifecycleViolation {
        LifecycleViolation(
            kind: kind, phase: phase, database: database, statement: statement, sqlState: sqlState,
            sessionPID: pid, source: hook.source, note: note)
    }

    private func failure(_ hook: ConnectHook, _ database: String, _ error: any Error) -> TestKitError {
        TestKitError(.hookFailed, "the connect hook '\(hook.name.prefix(120))' registered at \(hook.source) failed on database \(database): \(error)", underlying: error)
    }
}
