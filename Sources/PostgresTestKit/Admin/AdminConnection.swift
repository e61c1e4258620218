import Foundation
import Logging
import Synchronization

/// The toolkit's connection to the server's maintenance database, and the only way it
/// creates, lists and drops databases.
///
/// It connects to `postgres`, then `template1` — never to an application database, and it
/// never falls back to one silently: when both fail, the error lists each target and why. It
/// runs no user hooks. It drops only databases that carry its ``OwnerMarker``.
package final class AdminConnection: Sendable {
    /// The maintenance databases tried, in order.
    package static let maintenanceDatabases = ["postgres", "template1"]

    let connection: Connection
    /// The run this admin connection belongs to.
    package let runID: RunID
    /// The maintenance database it is attached to.
    package let database: String
    /// The server's major version.
    package let serverMajorVersion: Int
    /// The server as libpq resolved it, without the session's name: how the exit's cleanup
    /// knows the server of a database this connection created (and connects to drop it).
    package let server: [String: String]
    let logger: Logger
    /// ``checkpointsAreFree()``, once asked.
    private let freeCheckpoints = Mutex<Bool?>(nil)

    private init(connection: Connection, runID: RunID, database: String, serverMajorVersion: Int, server: [String: String], logger: Logger) {
        self.connection = connection
        self.runID = runID
        self.database = database
        self.serverMajorVersion = serverMajorVersion
        self.server = server
        self.logger = logger
    }

    /// Connects to the maintenance database of the server `server` points at.
    ///
    /// The database named in `server` (for example the app's in `DATABASE_URL`) is ignored.
    package static func connect(
        to server: ConnectionString, runID: RunID, applicationName: String? = nil,
        logger: Logger = Logger(label: "PostgresTestKit")
    ) async throws -> AdminConnection {
        var failures: [String] = []
        var lastError: PGError?
        for database in maintenanceDatabases {
            do {
                let connection = try await Connection.connect(
                    to: server, database: database,
                    applicationName: applicationName ?? runID.adminApplicationName, logger: logger)
                let version = await connection.serverVersion / 10000
                var server = await connection.effectiveParameters()
                server["application_name"] = nil
                server["fallback_application_name"] = nil
                return AdminConnection(connection: connection, runID: runID, database: database, serverMajorVersion: version,
                                       server: server, logger: logger)
            } catch let error as PGError {
                failures.append("  - \(database): \(error.message)")
                lastError = error
            }
        }
        throw TestKitError(.maintenanceDatabaseUnreachable, """
            could not open the admin connection to \(server.raw.isEmpty ? "the server named by PG* variables" : server.description). \
            The toolkit administers databases only through a maintenance database and never through an application database. Tried:
            \(failures.joined(separator: "\n"))
            \(lastError?.hint ?? "Check that the server runs and that the role may connect to 'postgres' or 'template1' and has CREATEDB.")
            """, underlying: lastError)
    }

    /// Lets this session's commits return before their WAL is flushed
    /// (`synchronous_commit = off`): for the toolkit's own bookkeeping (owner markers, a
    /// recycled clone's rename), which a server crash may lose without harm — the database
    /// keeps its earlier marker or name, and stays the toolkit's. `CREATE` and `DROP DATABASE`
    /// flush their commits whatever this says.
    package func deferCommitFlushes() async throws {
        try await connection.execute("SET synchronous_commit = off")
    }

    /// Closes the admin connection.
    package func close() async { await connection.close() }

    /// Creates a database owned by the toolkit, optionally cloned from a template, and writes
    /// its owner marker. It is registered with the exit's cleanup before the statement is sent
    /// (an exit meanwhile waits for it, then drops it) — until it is dropped, kept or
    /// published as a template (``writeMarker(_:on:)``). None is created once the process is
    /// exiting.
    package func createDatabase(
        _ name: String, template: String? = nil, strategy: CloneStrategy? = nil, marker: OwnerMarker
    ) async throws {
        try DatabaseName.validate(name)
        try await ExitCleanup.shared.creating(name, server: server) {
            try await create(name, template: template, strategy: strategy, marker: marker)
        }
    }

    private func create(_ name: String, template: String?, strategy: CloneStrategy?, marker: OwnerMarker) async throws {
        let quoted = try await connection.quoteIdentifier(name)
        var quotedTemplate: String?
        var fsyncOff = false
        if let template {
            quotedTemplate = try await connection.quoteIdentifier(template)
        } else if serverMajorVersion >= 15 {
            fsyncOff = await checkpointsAreFree()
        }
        let sql = Self.createStatement(
            quoted, template: quotedTemplate, strategy: strategy, serverMajorVersion: serverMajorVersion, fsyncOff: fsyncOff)
        try await connection.execute(sql)
        do {
            try await writeMarker(marker, on: name)
        } catch {
            // Without its marker nothing would ever drop it (the toolkit drops only marked
            // databases): drop it now, outside the caller's cancellation, since we just made it.
            let connection = self.connection
            let force = serverMajorVersion >= 13 ? " WITH (FORCE)" : ""
            await Task {
                _ = try? await connection.execute("DROP DATABASE IF EXISTS \(quoted)\(force)")
            }.value
            throw error
        }
    }

    /// Whether a checkpoint costs nothing and removes no WAL a proof needs: fsync off and 1 GB
    /// of WAL kept (the embedded server). On a server that keeps little WAL, a `FILE_COPY`
    /// create's checkpoint would recycle what open windows and ready clones' proofs need. Asked
    /// once per connection (a manager without a template creates from template0 for every test).
    private func checkpointsAreFree() async -> Bool {
        if let known = freeCheckpoints.withLock({ $0 }) { return known }
        guard let free = try? await connection.scalar(
            "SELECT current_setting('fsync') = 'off' AND pg_size_bytes(current_setting('wal_keep_size')) >= 1073741824",
            as: Bool.self) else { return false }
        freeCheckpoints.withLock { $0 = free }
        return free
    }

    /// The `CREATE DATABASE` of `quoted` (an identifier quoted already), from `quotedTemplate`
    /// with `strategy` (PostgreSQL 15 and later), or else from `template0` — not template1:
    /// sessions on it (ours, when postgres is unreachable, or anyone's) would make every
    /// `CREATE DATABASE` fail. From `template0` on a server without fsync that keeps 1 GB of
    /// WAL (the embedded one), where a checkpoint is free and removes no WAL a proof needs, the
    /// files are copied unless `strategy` says otherwise: `WAL_LOG`, the default, writes
    /// template0's 7.5 MB into the WAL, which every WAL proof of a ready clone or a verdict then
    /// reads (a template build's scratch database and the WAL witness's, made once per process,
    /// made the warm pool's adoption read 30-60 MB: 300-560 ms).
    static func createStatement(
        _ quoted: String, template quotedTemplate: String?, strategy: CloneStrategy?, serverMajorVersion: Int, fsyncOff: Bool
    ) -> String {
        var sql = "CREATE DATABASE \(quoted) TEMPLATE \(quotedTemplate ?? "template0")"
        let strategy = strategy ?? (quotedTemplate == nil && fsyncOff ? .fileCopy : nil)
        if let strategy, serverMajorVersion >= 15 { sql += " STRATEGY \(strategy.rawValue)" }
        return sql
    }

    /// Replaces a toolkit database's owner marker. A template's marker, or a kept one, takes
    /// the database out of the exit's cleanup: it outlives the process on purpose.
    package func writeMarker(_ marker: OwnerMarker, on name: String) async throws {
        let quoted = try await connection.quoteIdentifier(name)
        let literal = try await connection.quoteLiteral(marker.comment)
        try await connection.execute("COMMENT ON DATABASE \(quoted) IS \(literal)")
        if marker.kind == .template || marker.kept == true { ExitCleanup.shared.forget(name) }
    }

    /// The owner marker of a database, or `nil` when it has none (or does not exist).
    package func marker(of name: String) async throws -> OwnerMarker? {
        try await lookUp(name)?.marker
    }

    /// One round trip: whether the database exists, and its marker if it has one.
    private func lookUp(_ name: String) async throws -> (exists: Bool, marker: OwnerMarker?, invalid: Bool)? {
        guard let row = try await connection.execute(
            "SELECT shobj_description(oid, 'pg_database'), datconnlimit = -2 FROM pg_database WHERE datname = $1", name
        ).rows.first else { return nil }
        return (true, OwnerMarker(comment: try row.decode(String?.self, at: 0)), try row.decode(Bool.self, at: 1))
    }

    /// Whether a database of that name exists.
    package func exists(_ name: String) async throws -> Bool {
        try await connection.scalar("SELECT count(*) FROM pg_database WHERE datname = $1", name, as: Int.self) > 0
    }

    /// Every database name on the server and every role (`role:NAME`, built-in `pg_*` roles
    /// left out), sorted: a census to compare before and after a test run. Ready clones (the
    /// warm pool) are left out too: their names change each time a run adopts and leaves them,
    /// and `pgtestkit list` counts them with their template. Reads catalogs only.
    package func census() async throws -> [String] {
        let rows = try await connection.execute(
            """
            SELECT datname::text FROM pg_database
            WHERE coalesce(shobj_description(oid, 'pg_database'), '') NOT LIKE 'pgtestkit {%"kind":"ready"%'
            UNION ALL SELECT 'role:' || rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1
            """)
        return try rows.rows.map { try $0.decode(String.self, at: 0) }
    }

    /// Whether the connected role itself owns `name` (a superuser owns only what it made).
    package func ownsDatabase(_ name: String) async throws -> Bool {
        try await connection.scalar(
            "SELECT count(*) FROM pg_database WHERE datname = $1 AND pg_get_userbyid(datdba) = current_user",
            name, as: Int.self) > 0
    }

    /// Every database carrying a toolkit marker, optionally only those whose name starts with
    /// `prefix_`, or only templates. Sizes (a walk of each database's files on the server) only
    /// when asked for.
    package func ownedDatabases(prefix: String? = nil, withSizes: Bool = false, templatesOnly: Bool = false) async throws -> [OwnedDatabase] {
        let rows = try await connection.execute("""
            SELECT datname, shobj_description(oid, 'pg_database'),
                   CASE WHEN $2 AND has_database_privilege(oid, 'CONNECT') THEN coalesce(pg_database_size(oid), 0) ELSE 0 END,
                   datistemplate
            FROM pg_database
            WHERE shobj_description(oid, 'pg_database') LIKE 'pgtestkit %'
              AND ($1::text IS NULL OR starts_with(datname, $1 || '_'))
              AND (NOT $3 OR shobj_description(oid, 'pg_database') LIKE '%"kind":"template"%')
            ORDER BY datname
            """, prefix, withSizes, templatesOnly).rows
        return try rows.compactMap { row in
            guard let marker = OwnerMarker(comment: try row.decode(String?.self, at: 1)) else { return nil }
            return OwnedDatabase(
                name: try row.decode(String.self, at: 0), marker: marker,
                size: try row.decode(Int64.self, at: 2), isTemplate: try row.decode(Bool.self, at: 3))
        }
    }

    /// The sessions connected to a database, other than this admin connection.
    package func sessions(on name: String) async throws -> [SessionInfo] {
        try await connection.execute("""
            SELECT pid, coalesce(application_name, ''), state, left(query, 200)
            FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
            """, name).rows.map { row in
            SessionInfo(
                pid: try row.decode(Int32.self, at: 0), applicationName: try row.decode(String.self, at: 1),
                state: try row.decode(String?.self, at: 2), lastQuery: try row.decode(String?.self, at: 3))
        }
    }

    /// Drops a toolkit database and returns the sessions that were still connected to it.
    ///
    /// Refuses (`.notOwned`) when the database carries no owner marker. Uses
    /// `DROP DATABASE … WITH (FORCE)` on PostgreSQL 13 and later, and terminates the sessions
    /// first on older servers. A database that no longer exists is not an error.
    @discardableResult
    package func dropDatabase(_ name: String) async throws -> [SessionInfo] {
        // Another toolkit session (a reaper looking at it, another drop) may hold its drop
        // lock: wait for it rather than forget a database nobody may drop then.
        guard let leftover = try await whileDropping(name, waitingUpTo: .seconds(30), { try await drop(name) }) else {
            throw TestKitError(.configuration, "could not drop '\(name)': another toolkit session held its drop lock for 30 s (the exit's cleanup and the reaper will retry)")
        }
        ExitCleanup.shared.forget(name)
        return leftover
    }

    /// Runs `body` (a drop of `name`) holding the toolkit's drop lock on that name, so that
    /// two of its sessions never drop the same database at once: a DROP under way marks it
    /// invalid (PostgreSQL 15.5+), and the other session's `ALTER DATABASE` on it would then
    /// end that session (FATAL). `nil` when another session holds it: that one drops it, or
    /// (a reaper that finds its run alive) leaves it.
    /// With `waitingUpTo`, waits that long for another session's lock first (`nil` only then).
    func whileDropping<T>(_ name: String, waitingUpTo wait: Duration = .zero, _ body: () async throws -> T) async throws -> T? {
        let key = "pgtestkit:drop:" + name
        let locked = try await Deadline.poll(for: wait, every: .milliseconds(20), until: { $0 }) {
            try await connection.scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key, as: Bool.self)
        }
        guard locked else {
            logger.debug("another toolkit session is dropping \(name)")
            return nil
        }
        do {
            let result = try await body()
            try await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
            return result
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
            throw error
        }
    }

    private func drop(_ name: String) async throws -> [SessionInfo] {
        guard let found = try await lookUp(name) else { return [] }   // already gone
        guard let marker = found.marker else {
            throw TestKitError(.notOwned, "refusing to drop the database '\(name)': it carries no PostgresTestKit owner marker, so the toolkit did not create it.")
        }
        let leftover = try await sessions(on: name)
        try await rollBackPreparedTransactions(in: name)
        let quoted = try await connection.quoteIdentifier(name)
        if marker.kind == .template || found.invalid {
            try await clearTemplateFlag(name, quoted: quoted, invalid: found.invalid)
        }
        if serverMajorVersion >= 13 {
            try await connection.execute("DROP DATABASE IF EXISTS \(quoted) WITH (FORCE)")
        } else {
            try await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
            try await connection.execute("DROP DATABASE IF EXISTS \(quoted)")
        }
        logger.debug("dropped database", metadata: ["database": "\(name)", "leftover": "\(leftover.count)"])
        return leftover
    }

    /// Clears `datistemplate`, which `DROP DATABASE` refuses: with `ALTER DATABASE` — except
    /// on an invalid database (a DROP interrupted earlier, PostgreSQL 15.5+: datconnlimit -2),
    /// where any ALTER ends the session (FATAL) and only a superuser's catalog update works.
    func clearTemplateFlag(_ name: String, quoted: String, invalid: Bool) async throws {
        guard invalid else {
            try await connection.execute("ALTER DATABASE \(quoted) WITH IS_TEMPLATE false")
            return
        }
        do {
            try await connection.execute("UPDATE pg_database SET datistemplate = false WHERE datname = $1 AND datconnlimit = -2", name)
        } catch let error as PGError {
            throw TestKitError(.notOwned, "the toolkit's database '\(name)' is invalid (an earlier DROP DATABASE was interrupted) and still marked a template; a superuser can drop it: UPDATE pg_database SET datistemplate = false WHERE datname = '\(name)'; DROP DATABASE \(quoted)", underlying: error)
        }
    }

    /// Rolls back the prepared transactions a test left in one of the toolkit's databases:
    /// they outlive every session and keep `DROP DATABASE` from going on. `ROLLBACK PREPARED`
    /// works only from a session on that database.
    private func rollBackPreparedTransactions(in name: String) async throws {
        let gids = try await connection.execute("SELECT gid FROM pg_prepared_xacts WHERE database = $1", name).rows.compactMap { $0[0] }
        guard !gids.isEmpty else { return }
        let session = try await Connection.connect(to: .keywordForm(server, database: name), applicationName: runID.adminApplicationName, logger: logger)
        do {
            for gid in gids {
                try await session.execute("ROLLBACK PREPARED \(try await session.quoteLiteral(gid))")
                logger.notice("rolled back the prepared transaction '\(gid)' a test left in \(name), so that it can be dropped")
            }
        } catch {
            await session.close()
            throw error
        }
        await session.close()
    }

    /// Renames a toolkit database (no session may be connected to it). One the exit's cleanup
    /// would drop stays registered under its new name (under both while the rename is on the wire).
    /// `claiming`: the database is not this process's yet (a ready clone it adopts): it is
    /// registered with the exit's cleanup under its new name all the same.
    package func renameDatabase(_ name: String, to newName: String, claiming: Bool = false) async throws {
        try DatabaseName.validate(newName)
        try await requireOwned(name)
        let from = try await connection.quoteIdentifier(name)
        let to = try await connection.quoteIdentifier(newName)
        try await ExitCleanup.shared.renaming(name, to: newName, server: server, claiming: claiming) {
            try await connection.execute("ALTER DATABASE \(from) RENAME TO \(to)")
        }
    }

    /// Closes a toolkit database to new sessions (a template about to be published), or opens it.
    func allowConnections(_ name: String, _ allowed: Bool) async throws {
        try await requireOwned(name)
        let quoted = try await connection.quoteIdentifier(name)
        try await connection.execute("ALTER DATABASE \(quoted) WITH ALLOW_CONNECTIONS \(allowed)")
    }

    /// Marks a toolkit database as a template that accepts no connections, or reverses that.
    package func setTemplate(_ name: String, _ isTemplate: Bool) async throws {
        try await requireOwned(name)
        let quoted = try await connection.quoteIdentifier(name)
        try await connection.execute("ALTER DATABASE \(quoted) WITH IS_TEMPLATE \(isTemplate) ALLOW_CONNECTIONS \(!isTemplate)")
    }

    /// Turns the database guard on or off: while on, every new session of the database starts
    /// read-only (`default_transaction_read_only`), so no client can write before migrations.
    package func setWriteGuard(_ name: String, enabled: Bool) async throws {
        try await requireOwned(name)
        let quoted = try await connection.quoteIdentifier(name)
        if enabled {
            try await connection.execute("ALTER DATABASE \(quoted) SET default_transaction_read_only = on")
        } else {
            try await connection.execute("ALTER DATABASE \(quoted) RESET default_transaction_read_only")
        }
    }

    /// Runs a read-only query on the admin connection (for lists and reports).
    package func query(_ sql: String, _ parameters: (any PGBindable)?...) async throws -> QueryResult {
        try await connection.execute(sql, parameters: parameters)
    }

    /// Before an `ALTER DATABASE`: the database must be the toolkit's, and valid — on an
    /// invalid one (a `DROP DATABASE` interrupted, PostgreSQL 15.5+) the server ends the
    /// session (FATAL), and with it everything this admin connection was doing.
    private func requireOwned(_ name: String) async throws {
        let found = try await lookUp(name)
        guard let found, found.marker != nil else {
            throw TestKitError(.notOwned, "refusing to alter the database '\(name)': it carries no PostgresTestKit owner marker.")
        }
        guard !found.invalid else {
            throw TestKitError(.notOwned, "the toolkit's database '\(name)' is invalid (an earlier DROP DATABASE was interrupted): it can only be dropped (pgtestkit reap drops it).")
        }
    }
}
