import Foundation
import Logging

/// Layer 4 of premature-write flagging: the write-ahead log as witness. Between two marks,
/// `pg_get_wal_records_info` (the `pg_walinspect` extension, PostgreSQL 15+) names the
/// database of every persistent change, whatever made it — a function called from `SELECT`,
/// `DO`, `CALL`, a writing CTE, `nextval`, `COPY` — none of which `log_statement = mod` logs.
///
/// The extension is installed only into a small database of the witness's own, created with
/// an owner marker (`<prefix>_<run>_wal`) and dropped by ``close()``: never into `postgres`,
/// `template1` or any database the toolkit did not create, since that would itself be a write
/// there. Every query runs on a connection to that database.
///
/// It needs a superuser: `pg_walinspect` is not a trusted extension, so only a superuser can
/// install it, even into the witness's own database (`pg_read_server_files`, which may run its
/// functions, would do only where the extension already is — and the witness uses no database
/// it did not create). ``open(server:prefix:logger:)`` throws a ``TestKitError`` saying what is missing when it
/// cannot work: callers say so once and fall back to the statement log.
///
/// WAL is kept from the first mark on with a temporary physical replication slot when the role
/// may make one (superuser or `REPLICATION`), so a checkpoint cannot recycle WAL not yet read;
/// ``release(through:)`` lets it go. Records that reads and maintenance cause (hint-bit page
/// images, pruning, vacuum, row locks) are not changes: see ``WalRecord/change``.
package final class WalWitness: Sendable {
    /// The witness's own database (where `pg_walinspect` is installed).
    package let databaseName: String
    /// Its OID: changes there are the witness's own, never reported.
    package let databaseOID: UInt32
    /// The server's connection string (used to resolve relation names, read-only).
    package let server: ConnectionString
    /// The server's major version.
    package let serverMajorVersion: Int
    /// The witness's admin connection (its database's create and drop; clone recycling's
    /// renames and markers, off the pool's own admin connection, which is busy creating).
    package let admin: AdminConnection
    private let connection: Connection
    private let runID: RunID
    /// The temporary replication slot keeping WAL, if the role could create one.
    package let slot: String?
    /// Whether the role may force a WAL flush (`pg_logical_emit_message`: superuser or REPLICATION).
    private let canForceFlush: Bool
    /// `wal_block_size`.
    private let pageSize: UInt64
    private let logger: Logger

    private init(
        databaseName: String, databaseOID: UInt32, server: ConnectionString, serverMajorVersion: Int,
        admin: AdminConnection, connection: Connection, runID: RunID, slot: String?, canForceFlush: Bool,
        pageSize: UInt64, logger: Logger
    ) {
        self.databaseName = databaseName
        self.databaseOID = databaseOID
        self.server = server
        self.serverMajorVersion = serverMajorVersion
        self.admin = admin
        self.connection = connection
        self.runID = runID
        self.slot = slot
        self.canForceFlush = canForceFlush
        self.pageSize = pageSize
        self.logger = logger
    }

    /// What the audit says, once, when the witness cannot work: the fallback and what it misses.
    package static func unavailableNote(_ error: TestKitError) -> String {
        "the WAL witness is unavailable: \(error.message) Auditing from the statement log alone: writes made inside functions called from SELECT, DO blocks, CALL, writing CTEs and nextval are not seen."
    }

    /// Creates the witness database, installs `pg_walinspect` there and reserves WAL.
    ///
    /// Throws a ``TestKitError`` when the witness cannot work on this server — older than 15,
    /// no `pg_walinspect` (the PostgreSQL 16 wheel `pgserver` lacks it), or a role that may not
    /// install it — saying what would make it work. Nothing is left behind then.
    ///
    /// `reserveWAL: false` makes no replication slot: WAL not read before a checkpoint
    /// recycles it is then an error from ``changes(from:to:)``, which a caller that must
    /// vouch for a window (clone recycling) takes as "cannot vouch".
    package static func open(
        server: ConnectionString, prefix: String? = nil, reserveWAL: Bool = true, copyThroughWAL: Bool = false,
        logger: Logger = Logger(label: "PostgresTestKit")
    ) async throws -> WalWitness {
        let prefix = prefix ?? ToolkitSettings.process.witnessPrefix
        try DatabaseName.validatePrefix(prefix)
        let runID = RunID()
        let admin = try await AdminConnection.connect(to: server, runID: runID, logger: logger)
        do {
            return try await open(admin: admin, server: server, prefix: prefix, runID: runID, reserveWAL: reserveWAL,
                                  copyThroughWAL: copyThroughWAL, logger: logger)
        } catch {
            await admin.close()
            throw error
        }
    }

    private static func open(
        admin: AdminConnection, server: ConnectionString, prefix: String, runID: RunID, reserveWAL: Bool, copyThroughWAL: Bool,
        logger: Logger
    ) async throws -> WalWitness {
        let major = admin.serverMajorVersion
        // Recycling's renames and markers go through this admin: none needs to wait for a flush.
        try await admin.deferCommitFlushes()
        guard major >= 15 else {
            throw TestKitError(.configuration, "it needs PostgreSQL 15 or later (pg_walinspect); this server is \(major). Use a newer server (PGTESTKIT_PG_BINDIR) for the WAL witness.")
        }
        guard let role = try await admin.query("""
            SELECT rolsuper, rolreplication, pg_has_role(current_user, 'pg_read_server_files', 'USAGE'),
                   EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_walinspect'),
                   current_setting('wal_block_size')
            FROM pg_roles WHERE rolname = current_user
            """).rows.first else {
            throw TestKitError(.configuration, "the current role is not in pg_roles; connect as a superuser for the WAL witness.")
        }
        let superuser = try role.decode(Bool.self, at: 0)
        let replication = try role.decode(Bool.self, at: 1)
        guard try role.decode(Bool.self, at: 3) else {
            throw TestKitError(.postgresNotInstalled, "this PostgreSQL \(major) server has no pg_walinspect extension (Debian and Ubuntu ship it with the server package; the PostgreSQL 16 wheel pgserver does not). Install the contrib modules of your server, or use one that has them.")
        }
        guard superuser else {
            let reader = try role.decode(Bool.self, at: 2)
            throw TestKitError(.configuration, "it needs a superuser: pg_walinspect is not a trusted extension, so only a superuser can install it, even into the witness's own database\(reader ? " (this role is in pg_read_server_files, which is not enough)" : ""). Run the audit as a superuser (the embedded server's postgres role is one).")
        }
        let pageSize = UInt64(role[4] ?? "") ?? 8192
        let name = DatabaseName.appendingTestName("\(prefix)_\(runID.rawValue)", "wal")
        try DatabaseName.validate(name)
        try await admin.createDatabase(name, strategy: copyThroughWAL ? .walLog : nil,
                                       marker: OwnerMarker(kind: .clone, run: runID, test: "WAL witness (pg_walinspect)"))
        let connection: Connection
        do {
            connection = try await Connection.connect(to: server, database: name, applicationName: "pgtestkit-wal:\(runID.rawValue)", logger: logger)
        } catch {
            _ = try? await admin.dropDatabase(name)
            throw error
        }
        do {
            try await connection.execute("CREATE EXTENSION pg_walinspect")
            guard try await connection.scalar("SELECT has_function_privilege('pg_get_wal_records_info(pg_lsn, pg_lsn)', 'EXECUTE')", as: Bool.self) else {
                throw TestKitError(.configuration, "the role may not run pg_get_wal_records_info; grant it pg_read_server_files or run the audit as a superuser.")
            }
        } catch {
            await connection.close()
            _ = try? await admin.dropDatabase(name)
            if let error = error as? PGError {
                throw TestKitError(.configuration, "pg_walinspect could not be installed into the witness database \(name) (SQLSTATE \(error.sqlState ?? "?"): \(error.message)); install the server's contrib modules and run the audit as a superuser.", underlying: error)
            }
            throw error
        }
        // Its commits flush the WAL (the embedded server runs with synchronous_commit = off):
        // a logical message it commits is the cheapest way to have the WAL readable to a mark.
        try await connection.execute("SET synchronous_commit = on")
        let oid = UInt32(try await connection.scalar("SELECT oid::text FROM pg_database WHERE datname = current_database()", as: String.self)) ?? 0
        // Keep WAL from now on (a temporary slot goes away with the session). Without one, a
        // checkpoint may recycle WAL the witness has not read yet: ``changes(from:to:)`` says so.
        var slot: String? = reserveWAL ? name : nil   // slot names take the same characters
        if let name = slot {
            do {
                try await connection.execute("SELECT pg_create_physical_replication_slot($1, true, true)", name)
            } catch {
                logger.debug("WAL witness: no replication slot (\(error)); WAL may be recycled before it is read")
                slot = nil
            }
        }
        logger.debug("WAL witness ready", metadata: ["database": "\(name)", "slot": "\(slot ?? "none")"])
        return WalWitness(
            databaseName: name, databaseOID: oid, server: server, serverMajorVersion: major, admin: admin,
            connection: connection, runID: runID, slot: slot, canForceFlush: superuser || replication,
            pageSize: pageSize, logger: logger)
    }

    /// A second reader on the same witness database, with a session of its own: its reads do
    /// not queue behind this witness's (the run audit's long reads beside recycling's short
    /// windows). It shares the admin connection and has no slot; closing it is closing its
    /// session (the database is this witness's).
    package func sibling() async throws -> WalWitness {
        let session = try await Connection.connect(
            to: server, database: databaseName, applicationName: "pgtestkit-wal:\(runID.rawValue)", logger: logger)
        do {
            try await session.execute("SET synchronous_commit = on")
        } catch {
            await session.close()
            throw error
        }
        return WalWitness(
            databaseName: databaseName, databaseOID: databaseOID, server: server, serverMajorVersion: serverMajorVersion,
            admin: admin, connection: session, runID: runID, slot: nil, canForceFlush: canForceFlush,
            pageSize: pageSize, logger: logger)
    }

    /// The server backends the witness itself uses (to leave them out of a log audit).
    package func backendPIDs() async -> Set<Int32> {
        [await connection.backendPID, await admin.connection.backendPID]
    }

    /// The current WAL insert position (`pg_current_wal_insert_lsn()`): everything a session
    /// wrote before this call is before it.
    package func mark() async throws -> WalLSN {
        let text = try await connection.scalar("SELECT pg_current_wal_insert_lsn()::text", as: String.self)
        guard let lsn = WalLSN(text) else {
            throw TestKitError(.configuration, "the server answered '\(text)' for pg_current_wal_insert_lsn(); is this PostgreSQL?")
        }
        return lsn
    }

    /// The changes between two marks, per database OID (the witness's own database and the
    /// shared catalogs left out). Waits (a second at most) for the WAL up to `to` to be
    /// flushed, which `pg_walinspect` requires; a superuser forces the flush at once.
    package func changes(from: WalLSN, to: WalLSN) async throws -> [UInt32: [WalChange]] {
        Dictionary(grouping: WalChange.changes(from: try await records(from: from, to: to)), by: \.database)
    }

    /// The records between two marks that name a relation or database, grouped (the
    /// witness's own database left out); ``changes(from:to:)`` keeps those that are changes.
    ///
    /// `flushed: true` when the caller made sure the WAL is flushed past `to` (a
    /// ``sharedState(of:flushing:)`` mark): no round trip to check.
    /// `database`: only the records that name that database OID (the server leaves the rest
    /// out before grouping them: a clone's verdict reads little of a busy server's WAL).
    package func records(from: WalLSN, to: WalLSN, flushed alreadyFlushed: Bool = false, database: UInt32? = nil) async throws -> [WalRecord] {
        let start = from.backingOffPageHeader(pageSize: pageSize)
        let end = alreadyFlushed && canForceFlush
            ? to.backingOffPageHeader(pageSize: pageSize)
            : try await flushed(through: to.backingOffPageHeader(pageSize: pageSize))
        guard start < end else { return [] }
        let rows: [Row]
        do {
            rows = try await connection.execute(Self.recordsQuery, start.description, end.description, database.map { String($0) }).rows
        } catch let error as PGError {
            // Advice only for the cause it fits: a recycled segment, not an ended session.
            let recycled = error.message.contains("has already been removed")
            let advice = !recycled ? "" : slot == nil
                ? " No replication slot keeps this WAL (none was made, or the role lacks REPLICATION), so a checkpoint can recycle it before it is read: raise wal_keep_size, or read it more often."
                : " Read it more often."
            throw TestKitError(.configuration, "the WAL between \(start) and \(end) could not be read (\(error.message)).\(advice)", underlying: error)
        }
        var records: [WalRecord] = []
        for row in rows {
            guard let manager = row[0], let type = row[1], let tablespace = row[2].flatMap({ UInt32($0) }),
                  let database = row[3].flatMap({ UInt32($0) }), let relfilenode = row[4].flatMap({ UInt32($0) }),
                  let count = row[6].flatMap({ Int($0) }), database != databaseOID else { continue }
            var record = WalRecord(resourceManager: manager, recordType: type, tablespace: tablespace,
                                   database: database, relfilenode: relfilenode, fork: row[5] ?? "main", count: count)
            record.lastLSN = row[7].flatMap(WalLSN.init)
            records.append(record)
        }
        return records
    }

    /// What the shared catalogs hold for one database, which the WAL names no database for:
    /// its `pg_database` row (settings such as the connection limit, ACL, owner, template and
    /// connection flags; not its name, nor the frozen-xid horizons vacuum moves), its
    /// `ALTER DATABASE … SET` and `ALTER ROLE … IN DATABASE … SET` settings, security labels,
    /// subscriptions; its comment (the owner marker) apart. Also how many prepared
    /// transactions and replication slots it has, which outlive every session. One round trip,
    /// which also reads the WAL insert position (a ``mark()``).
    ///
    /// `flushing: true` (a superuser's witness) also commits a logical message synchronously
    /// in the same statement: the WAL is then flushed past the mark, and
    /// ``records(from:to:flushed:)`` needs not wait for it.
    package func sharedState(of name: String, flushing: Bool = false) async throws -> SharedDatabaseState? {
        try await sharedStates(of: [name], flushing: flushing)[name]
    }

    /// ``sharedState(of:flushing:)`` of several databases in one round trip (an adoption's
    /// clones), by name; a database that does not exist has none. They share one WAL position.
    package func sharedStates(of names: [String], flushing: Bool = false) async throws -> [String: SharedDatabaseState] {
        guard !names.isEmpty else { return [:] }
        let flush = flushing && canForceFlush
        let list = names.postgresArrayLiteral
        let rows = try await connection.execute(#"""
            WITH mark AS MATERIALIZED (
                SELECT pg_current_wal_insert_lsn()::text AS lsn\#(flush ? ", pg_logical_emit_message(true, 'pgtestkit', 'flush')::text" : "")
            )
            SELECT d.oid::text,
                   ((to_jsonb(d) - 'datname' - 'datfrozenxid' - 'datminmxid')::text
                    || coalesce((SELECT string_agg(s.setrole::text || ':' || array_to_string(s.setconfig, ','), ';' ORDER BY s.setrole)
                                 FROM pg_db_role_setting s WHERE s.setdatabase = d.oid), '')
                    || '|' || coalesce((SELECT string_agg(l.provider || ':' || l.label, ';' ORDER BY l.provider)
                                        FROM pg_shseclabel l WHERE l.objoid = d.oid AND l.classoid = 'pg_database'::regclass), '')
                    || '|' || (SELECT count(*) FROM pg_subscription s WHERE s.subdbid = d.oid)::text),
                   shobj_description(d.oid, 'pg_database'),
                   ((SELECT count(*) FROM pg_prepared_xacts p WHERE p.database = d.datname)
                    + (SELECT count(*) FROM pg_replication_slots r WHERE r.database = d.datname))::text,
                   mark.lsn, d.datname
            FROM mark, pg_database d WHERE d.datname = ANY ($1::text[])
            """#, list).rows
        var states: [String: SharedDatabaseState] = [:]
        for row in rows {
            guard let oid = row[0].flatMap({ UInt32($0) }), let lsn = row[4].flatMap({ WalLSN($0) }), let name = row[5] else { continue }
            states[name] = SharedDatabaseState(oid: oid, catalogs: row[1] ?? "", comment: row[2], lingering: Int(row[3] ?? "") ?? 0, lsn: lsn)
        }
        return states
    }

    /// `pg_get_wal_records_info` grouped on the server by resource manager, record type,
    /// relation and fork. Only records with a block reference, and `Storage`/`RelMap` records (which name
    /// their relation or database in the description), can be changes: the rest is left out here.
    ///
    /// Most records have one block reference (a clone's page images, a row written): its
    /// relation is cut out with `split_part`; only records with several go through the
    /// regular expression, about three times slower over a clone's worth of WAL. The
    /// description is kept only for the records that need it.
    static let recordsQuery = #"""
        WITH r AS MATERIALIZED (
            SELECT start_lsn AS lsn, resource_manager AS rm, record_type AS rt, nullif(block_ref, '') AS block_ref,
                   CASE WHEN resource_manager IN ('Storage', 'RelMap') THEN description END AS description
            FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
            WHERE (block_ref <> '' OR resource_manager IN ('Storage', 'RelMap'))
              AND ($3::text IS NULL OR resource_manager = 'RelMap'
                   OR strpos(coalesce(nullif(block_ref, ''), description), '/' || $3::text || '/') > 0)
        )
        SELECT rm, rt, b[1], b[2], b[3], coalesce(b[4], 'main'), count(*)::text, max(lsn)::text
        FROM r, LATERAL regexp_matches(r.block_ref, 'rel (\d+)/(\d+)/(\d+)(?: fork (\w+))?', 'g') AS b
        WHERE r.block_ref IS NOT NULL AND strpos(substr(r.block_ref, 8), 'blkref #') > 0
        GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL
        SELECT rm, rt, split_part(x.ref, '/', 1), split_part(x.ref, '/', 2), split_part(x.ref, '/', 3),
               CASE WHEN strpos(r.block_ref, ' fork ') > 0 THEN split_part(split_part(r.block_ref, ' fork ', 2), ' ', 1) ELSE 'main' END,
               count(*)::text, max(lsn)::text
        FROM r, LATERAL (SELECT split_part(split_part(r.block_ref, 'rel ', 2), ' ', 1) AS ref) AS x
        WHERE r.block_ref IS NOT NULL AND strpos(substr(r.block_ref, 8), 'blkref #') = 0
        GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL
        SELECT rm, rt, coalesce(m[1], '0'), m[2], m[3], coalesce(m[4], 'main'), count(*)::text, max(lsn)::text
        FROM r, LATERAL regexp_match(r.description, '(?:pg_tblspc/(\d+)/[^/ ]+/)?(\d+)/(\d+)(?:_(\w+))?') AS m
        WHERE r.rm = 'Storage' AND m IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL
        SELECT rm, rt, '0', m[1], '0', 'main', count(*)::text, max(lsn)::text
        FROM r, LATERAL regexp_match(r.description, 'database (\d+)') AS m
        WHERE r.rm = 'RelMap' AND m IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6
        """#

    /// `lsn`, once the server has flushed the WAL that far, or the flushed end if it stays
    /// behind (only records nobody committed or aborted can be in that tail then).
    private func flushed(through lsn: WalLSN) async throws -> WalLSN {
        func flushPosition() async throws -> WalLSN {
            WalLSN(try await connection.scalar("SELECT pg_current_wal_flush_lsn()::text", as: String.self)) ?? WalLSN(0)
        }
        var flushed = try await flushPosition()
        if flushed >= lsn { return lsn }
        if canForceFlush {
            // A transactional logical message commits synchronously: the WAL is flushed up to
            // it. It touches no relation of any database (LogicalMessage: not a change).
            try await connection.execute("SELECT pg_logical_emit_message(true, 'pgtestkit', 'flush')")   // synchronous_commit = on
            flushed = try await flushPosition()
            if flushed >= lsn { return lsn }
        }
        // The WAL writer flushes committed work within three wal_writer_delay (200 ms).
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            flushed = try await flushPosition()
            if flushed >= lsn { return lsn }
        }
        return flushed
    }

    /// Lets the server recycle the WAL before `lsn` (advances the replication slot).
    package func release(through lsn: WalLSN) async {
        guard let slot else { return }
        do {
            try await connection.execute("SELECT pg_replication_slot_advance($1, $2::pg_lsn)", slot, lsn.description)
        } catch {
            logger.debug("WAL witness: could not advance the slot \(slot): \(error)")
        }
    }

    /// Fills in the relation names of `changes` (all in the database `name`), from a read-only
    /// session on it: `pg_filenode_relation`, and the table an index, TOAST table (or its
    /// index) or owned sequence belongs to. Changes it cannot resolve (the database or relation is gone, the
    /// database refuses connections) are returned as they were.
    package func resolveNames(of changes: [WalChange], in name: String) async -> [WalChange] {
        let wanted = changes.filter { $0.relfilenode != 0 }
        guard !wanted.isEmpty else { return changes }
        let session: Connection
        do {
            session = try await Connection.connect(to: server, database: name, applicationName: "pgtestkit-wal:\(runID.rawValue)", logger: logger)
        } catch {
            logger.debug("WAL witness: cannot resolve relation names in \(name): \(error)")
            return changes
        }
        let tablespaces = "{" + wanted.map { String($0.tablespace) }.joined(separator: ",") + "}"
        let nodes = "{" + wanted.map { String($0.relfilenode) }.joined(separator: ",") + "}"
        let rows: [Row]
        do {
            try await session.simpleQuery("SET default_transaction_read_only = on")
            rows = try await session.execute("""
                SELECT n.spc::text, n.node::text, format('%I.%I', ns.nspname, c.relname), c.oid::bigint,
                       (SELECT format('%I.%I', ons.nspname, o.relname) FROM pg_class o JOIN pg_namespace ons ON ons.oid = o.relnamespace
                        WHERE o.oid = coalesce(
                            -- a TOAST table, or an index on one: the table it belongs to
                            (SELECT m.oid FROM pg_class m WHERE m.reltoastrelid = coalesce(i.indrelid, c.oid)),
                            i.indrelid, d.refobjid))
                FROM unnest($1::oid[], $2::oid[]) AS n(spc, node)
                JOIN pg_class c ON c.oid = pg_filenode_relation(n.spc, n.node)
                JOIN pg_namespace ns ON ns.oid = c.relnamespace
                LEFT JOIN pg_index i ON i.indexrelid = c.oid
                LEFT JOIN pg_depend d ON c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                """, tablespaces, nodes).rows
        } catch {
            await session.close()
            logger.debug("WAL witness: cannot resolve relation names in \(name): \(error)")
            return changes
        }
        await session.close()
        var resolved: [UInt32: (relation: String, oid: Int64, table: String?)] = [:]
        for row in rows {
            guard let node = row[1].flatMap({ UInt32($0) }), let relation = row[2],
                  let oid = row[3].flatMap({ Int64($0) }) else { continue }
            resolved[node] = (relation, oid, row[4])
        }
        return changes.map { change in
            guard let found = resolved[change.relfilenode] else { return change }
            var change = change
            change.relation = found.relation
            change.table = found.table ?? found.relation
            change.isCatalog = found.oid < Int64(WalRecord.firstNormalObjectID)
            return change
        }
    }

    /// Closes this reader's own session only (a ``sibling()``'s; the database stays).
    package func closeSession() async {
        await connection.close()
    }

    /// Drops the witness database and closes the witness's connections (the slot goes with them).
    package func close() async {
        await connection.close()
        do {
            try await admin.dropDatabase(databaseName)
        } catch {
            logger.warning("WAL witness: could not drop its database \(databaseName): \(error); pgtestkit reap drops it later")
        }
        await admin.close()
    }
}
