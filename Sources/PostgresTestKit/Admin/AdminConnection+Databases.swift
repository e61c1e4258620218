import Foundation

extension AdminConnection {
    /// Waits until no session other than the admin's (and those named `ignoring`) is connected
    /// to `name`, up to `timeout`, looking every `interval`; returns the sessions still there
    /// after that.
    func waitForNoSessions(
        on name: String, timeout: Duration = .seconds(3), every interval: Duration = .milliseconds(10), ignoring applicationName: String? = nil
    ) async throws -> [SessionInfo] {
        try await Deadline.poll(for: timeout, every: interval, until: \.isEmpty) {
            try await sessions(on: name).filter { applicationName == nil || $0.applicationName != applicationName }
        }
    }

    /// Terminates every session connected to a toolkit database (used before publishing a
    /// template that an app's own pool still holds).
    func terminateSessions(on name: String, except kept: Int32? = nil) async throws {
        try await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2",
            name, Int(kept ?? 0))
    }

    /// Marks a template as in use by this run for as long as the admin session lives (a shared
    /// advisory lock): a newer template never drops it from under us.
    func holdTemplate(_ name: String) async throws {
        try await connection.execute("SELECT pg_advisory_lock_shared(hashtextextended($1, 0))", "pgtestkit:template-use:" + name)
    }

    /// Runs `body` only if no live run holds `name` (an exclusive try-lock); returns whether it ran.
    func ifTemplateUnused(_ name: String, _ body: () async throws -> Void) async throws -> Bool {
        let key = "pgtestkit:template-use:" + name
        guard try await connection.scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key, as: Bool.self) else {
            return false
        }
        do {
            try await body()
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
            throw error
        }
        try await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
        return true
    }

    /// Takes a session-level advisory lock keyed by `key` (waits for it).
    func advisoryLock(_ key: String, timeout: Duration = .seconds(600)) async throws {
        try await connection.execute("SELECT set_config('lock_timeout', $1, false)", "\(timeout.components.seconds)s")
        do {
            try await connection.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", "pgtestkit:" + key)
        } catch let error as PGError where error.sqlState == .lockNotAvailable {
            throw TestKitError(.timeout, "waited \(timeout) for another process to finish building the template (\(key)); is a test process hanging in its migrations?", underlying: error)
        }
    }
}

/// How the reaper's attempt to drop one database ended.
enum ReapOutcome: Sendable {
    /// Dropped (or, in a dry run, droppable: no session is connected).
    case dropped
    /// Left alone: these sessions are connected to it.
    case inUse([SessionInfo])
    /// It no longer exists.
    case gone
}

extension AdminConnection {
    /// Refuses (`.hostNotAllowed`) to go on unless the server this connection actually reached
    /// (libpq's host and hostaddr, defaults resolved) is a local socket, loopback, or on
    /// `PGTESTKIT_ALLOWED_HOSTS`. Every command that drops databases calls it first.
    package func requireAllowedHost(_ allowList: HostAllowList = .fromEnvironment(), source: String) async throws {
        let parameters = await connection.effectiveParameters()
        try allowList.check(parameters["host"] ?? "", source: source)
        try allowList.check(parameters["hostaddr"] ?? "", source: source)
    }

    /// The sessions that keep `DROP DATABASE` (without `FORCE`) from dropping `name`: every
    /// backend connected to it but autovacuum workers (the server stops those itself) and
    /// this admin connection.
    func connectedSessions(on name: String) async throws -> [SessionInfo] {
        try await connection.execute("""
            SELECT pid, coalesce(application_name, ''), state, left(query, 200)
            FROM pg_stat_activity
            WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type IS DISTINCT FROM 'autovacuum worker'
            """, name).rows.map { row in
            SessionInfo(
                pid: try row.decode(Int32.self, at: 0), applicationName: try row.decode(String.self, at: 1),
                state: try row.decode(String?.self, at: 2), lastQuery: try row.decode(String?.self, at: 3))
        }
    }

    /// The databases among `oids` and `names` that exist now, each with whether it carries
    /// the toolkit's owner marker (how the audits tell the toolkit's databases from the
    /// developer's, whatever their names).
    package func databases(oids: [UInt32] = [], names: [String] = []) async throws -> [CommandAudit.Database] {
        guard !oids.isEmpty || !names.isEmpty else { return [] }
        let oidArray = "{" + oids.map(String.init).joined(separator: ",") + "}"
        let nameArray = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        return try await connection.execute("""
            SELECT oid::text, datname, shobj_description(oid, 'pg_database') FROM pg_database
            WHERE oid = ANY($1::oid[]) OR datname IN (SELECT jsonb_array_elements_text($2::jsonb))
            """, oidArray, nameArray).rows.compactMap { row in
            guard let oid = row[0].flatMap({ UInt32($0) }), let name = row[1] else { return nil }
            return CommandAudit.Database(oid: oid, name: name, isToolkit: OwnerMarker(comment: row[2]) != nil)
        }
    }

    /// Drops a toolkit database for the reaper, never from under a session: nothing is dropped
    /// while a session is connected, and the drop has no `WITH (FORCE)`, so the server itself
    /// refuses (55006) one that connects meanwhile. A database left half-published as a
    /// template (`datistemplate` set, the template marker not yet written) is made droppable
    /// first. With `dryRun` it only says whether it would drop.
    ///
    /// Throws `.notOwned` when the database carries no marker, or belongs to another role that
    /// this one may not drop (42501); other server errors as they come.
    ///
    /// `unmarked`: the database is one a killed run left before its marker
    /// (``unmarkedRunDatabases(prefixes:)``): it must still have no comment at all, belong to
    /// this role and not be a template.
    func reapDatabase(_ name: String, unmarked: Bool = false, dryRun: Bool = false) async throws -> ReapOutcome {
        try await whileDropping(name) { try await reap(name, unmarked: unmarked, dryRun: dryRun) } ?? .gone   // another session is dropping it
    }

    private func reap(_ name: String, unmarked: Bool, dryRun: Bool) async throws -> ReapOutcome {
        guard let row = try await connection.execute("""
            SELECT shobj_description(oid, 'pg_database'), datistemplate, pg_get_userbyid(datdba), current_user, datconnlimit = -2
            FROM pg_database WHERE datname = $1
            """, name).rows.first else { return .gone }
        let comment = try row.decode(String?.self, at: 0)
        if unmarked {
            guard comment == nil, try row.decode(String.self, at: 2) == row.decode(String.self, at: 3), try !row.decode(Bool.self, at: 1) else {
                throw TestKitError(.notOwned, "left '\(name)': it has a comment, another owner or the template flag now, so it is not an unmarked database of a dead run")
            }
        } else if OwnerMarker(comment: comment) == nil {
            throw TestKitError(.notOwned, "refusing to drop the database '\(name)': it carries no PostgresTestKit owner marker, so the toolkit did not create it.")
        }
        let sessions = try await connectedSessions(on: name)
        guard sessions.isEmpty else { return .inUse(sessions) }
        if dryRun { return .dropped }
        let quoted = try await connection.quoteIdentifier(name)
        do {
            if try row.decode(Bool.self, at: 1) {   // on an invalid one an ALTER would end this session
                try await clearTemplateFlag(name, quoted: quoted, invalid: try row.decode(Bool.self, at: 4))
            }
            try await connection.execute("DROP DATABASE IF EXISTS \(quoted)")
        } catch let error as PGError where error.sqlState == .objectInUse {
            return .inUse(try await connectedSessions(on: name))   // connected meanwhile, or a prepared transaction
        } catch let error as PGError where error.sqlState == .insufficientPrivilege {
            let owner = try row.decode(String.self, at: 2)
            let role = try row.decode(String.self, at: 3)
            throw TestKitError(.notOwned, "cannot drop '\(name)': it belongs to the role '\(owner)', which the role '\(role)' may not drop (42501); run pgtestkit reap as '\(owner)' or as a superuser.", underlying: error)
        }
        return .dropped
    }

    /// Databases of this role with no comment at all whose names have exactly the shape of a
    /// database the toolkit makes under one of `prefixes` (``RunID/ofToolkitName(_:prefix:)``):
    /// what a process killed between its `CREATE DATABASE` and the owner marker's `COMMENT`
    /// left. Only a reaper scoped to prefixes looks at them, and only with the run proven dead.
    func unmarkedRunDatabases(prefixes: [String]) async throws -> [(name: String, run: String)] {
        guard !prefixes.isEmpty else { return [] }
        return try await connection.execute("""
            SELECT datname FROM pg_database
            WHERE shobj_description(oid, 'pg_database') IS NULL AND pg_get_userbyid(datdba) = current_user
              AND NOT datistemplate AND datname NOT IN ('postgres', 'template0', 'template1')
            ORDER BY datname
            """).rows.compactMap { row in
            guard let name = row[0], let run = prefixes.lazy.compactMap({ RunID.ofToolkitName(name, prefix: $0) }).first else { return nil }
            return (name, run.rawValue)
        }
    }

    /// The text of a run's advisory lock key (the run lock).
    static func runLockKey(_ run: String) -> String { "pgtestkit:run:" + run }

    /// Holds the run lock of this connection's run for the life of the session (shared, so a
    /// keeper that reconnects while its old session lingers is not refused), and turns the
    /// idle-session timeout off for this session: it sits idle by design. Waits while a reaper
    /// holds the lock to drop the run's databases.
    func holdRunLock() async throws {
        if serverMajorVersion >= 14 {
            try await connection.execute("SELECT set_config('idle_session_timeout', '0', false)")
        }
        try await connection.execute("SELECT pg_advisory_lock_shared(hashtextextended($1, 0))", Self.runLockKey(runID.rawValue))
    }

    /// Takes the run lock of `run` exclusively if no session holds it (no keeper, no other
    /// reaper at work on it); returns whether it did. ``unlockRun(_:)`` gives it back.
    func tryLockRun(_ run: String) async throws -> Bool {
        try await connection.scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", Self.runLockKey(run), as: Bool.self)
    }

    /// Gives back a run lock taken with ``tryLockRun(_:)``.
    func unlockRun(_ run: String) async throws {
        try await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", Self.runLockKey(run))
    }
}
