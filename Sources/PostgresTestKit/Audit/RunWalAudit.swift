import Foundation
import Logging
import Synchronization

/// Watches the WAL for the test process, beside the statement log (``RunLogAudit``): a write
/// into a maintenance database, or into a database that carries no toolkit owner marker,
/// whatever made it — including the writes `log_statement = mod` never logs (a function
/// called from `SELECT`, a `DO` block, `CALL`, a writing CTE, `nextval`) and those of a
/// session whose `application_name` claims to be the toolkit's.
///
/// Reads through the process's one ``ProcessWalWitness`` (shared with clone recycling), from
/// the mark taken when it was first opened, each read from where the last one ended, on a
/// session of its own (``ProcessWalWitness/reader()``). Reads happen off the tests' path
/// (``poke(deliver:)``, at each release), one at a time and at least a quarter second apart,
/// and once more when a manager shuts down (``scan()``). Records that reads and maintenance alone
/// leave (hint-bit page images, pruning, vacuum, row locks, catalog statistics) are not
/// changes (``WalRecord/change``), and catalog rows alone (DDL, `ANALYZE`) are left to the
/// statement log. A change the statement log already reported for the same database and
/// table is not reported twice. Like the log audit, a finding blames no test.
///
/// Its window opens at the process's first preparation on the server: a write before that
/// is seen by the statement log alone. Where no witness can be opened it stays off, and the
/// log audit works alone.
actor RunWalAudit {
    private let witness: ProcessWalWitness
    private let logAudit: RunLogAudit?
    private let logger: Logger
    /// Where the next read starts.
    private var last: WalLSN
    /// The read in flight or queued, and whether another poke came while it was queued.
    private var tail: Task<Void, Never>?
    private var queued = false
    /// Whether the notice that a read is put off (the server not answering) was given.
    private var saidUnreadable = false
    /// When the last read started: reads a release asks for are at least ``spacing`` apart,
    /// so that a suite of short tests pays one read for many releases.
    private var lastRead: ContinuousClock.Instant?
    private static let spacing = Duration.milliseconds(250)

    private init(witness: ProcessWalWitness, start: WalLSN, logAudit: RunLogAudit?, logger: Logger) {
        self.witness = witness
        self.last = start
        self.logAudit = logAudit
        self.logger = logger
    }

    private static let opened = Mutex([[String: String]: Task<RunWalAudit?, Never>]())

    /// The process's WAL audit of this server, its window opened on the first call; `nil`
    /// (said once) where no witness can be opened.
    static func shared(
        server: ConnectionString, serverParameters: [String: String], logAudit: RunLogAudit?, logger: Logger
    ) async -> RunWalAudit? {
        let task = opened.withLock { cache in
            if let existing = cache[serverParameters] { return existing }
            let task = Task { () -> RunWalAudit? in
                switch await ProcessWalWitness.shared(server: server, serverParameters: serverParameters, logger: logger) {
                case .success(let witness):
                    do {
                        let start = try await witness.reader().mark()
                        return RunWalAudit(witness: witness, start: start, logAudit: logAudit, logger: logger)
                    } catch {
                        await witness.noteFailure(error)
                        logger.notice("the run audit reads the statement log only: the WAL witness could not take its first mark (\(error))")
                        return nil
                    }
                case .failure(let error):
                    logger.notice("the run audit reads the statement log only, which misses writes made inside functions, DO blocks, CALL, writing CTEs and nextval: \(error.message)")
                    return nil
                }
            }
            cache[serverParameters] = task
            return task
        }
        return await task.value
    }

    /// Starts a read off the caller's path, unless one is already queued behind the read in
    /// flight (that one will see this WAL too); `deliver` gets its findings.
    func poke(deliver: @escaping @Sendable ([LifecycleViolation]) async -> Void) {
        guard !queued else { return }
        queued = true
        let previous = tail
        tail = Task {
            await previous?.value
            let findings = await self.readQueued()
            if !findings.isEmpty { await deliver(findings) }
        }
    }

    /// Reads up to now, after the reads already started, and returns what it found. A
    /// stretch it cannot read is a ``LifecycleViolation/Kind-swift.struct/walNotAudited``
    /// finding: nothing reads it later.
    func scan() async -> [LifecycleViolation] {
        let previous = tail
        let task = Task { () -> [LifecycleViolation] in
            await previous?.value
            return await self.read(final: true)
        }
        tail = Task { _ = await task.value }
        return await task.value
    }

    private func readQueued() async -> [LifecycleViolation] {
        if let lastRead, ContinuousClock.now < lastRead + Self.spacing {
            try? await Task.sleep(until: lastRead + Self.spacing)
        }
        queued = false
        return await read(final: false)
    }

    /// Reads the WAL from the last read's end to now (never two at once: the reads are chained).
    /// When it cannot: a `final` read, or one past which the server has moved on (a mark can
    /// be taken, so the stretch is lost), reports the stretch as not audited; otherwise (the
    /// server is not answering) the next read tries the same stretch again.
    private func read(final: Bool) async -> [LifecycleViolation] {
        lastRead = ContinuousClock.now
        let witness: WalWitness
        let end: WalLSN
        let changes: [UInt32: [WalChange]]
        let start = last
        do {
            (witness, end, changes) = try await self.witness.retryingOnce(reader: true) { current in
                let end = try await current.mark()
                guard end > start else { return (current, end, [:]) }
                return (current, end, try await current.changes(from: start, to: end).filter { $0.value.contains(where: \.isDataChange) })
            }
        } catch {
            let now = try? await self.witness.current().mark()
            guard final || now != nil else {
                if !saidUnreadable {
                    saidUnreadable = true
                    logger.notice("the run audit could not read the WAL from \(start) (\(Self.cause(of: error))); it reads that stretch again at the next release")
                }
                return []
            }
            if let now { last = now }   // go on from here
            return [Self.notAudited(from: start, to: now, error: error)]
        }
        guard end > last else { return [] }
        last = end
        guard !changes.isEmpty else { return [] }
        let databases: [CommandAudit.Database]
        do {
            databases = try await witness.admin.databases(oids: Array(changes.keys))
        } catch {
            await self.witness.noteFailure(error)
            logger.notice("the run audit could not list the databases the WAL names (\(error))")
            return []
        }
        // A database the toolkit is creating has no marker for a moment (CREATE DATABASE, then
        // COMMENT): this process's are registered for its exit; another process's are looked
        // at again a little later.
        var unmarked = databases.filter { !$0.isToolkit && !ExitCleanup.shared.isRegistered($0.name) }
        if unmarked.contains(where: { !CommandAudit.maintenance.contains($0.name) }) {
            try? await Task.sleep(for: .milliseconds(500))
            if let again = try? await witness.admin.databases(oids: unmarked.map(\.oid)) {
                let still = Set(again.filter { !$0.isToolkit }.map(\.oid))
                unmarked = unmarked.filter { CommandAudit.maintenance.contains($0.name) || still.contains($0.oid) }
            }
        }
        var findings: [LifecycleViolation] = []
        // A database gone by now was dropped during the run: the toolkit drops only its own,
        // and a write into one the app dropped is not a write into the developer's data.
        for database in unmarked.sorted(by: { $0.oid < $1.oid }) {
            guard let seen = changes[database.oid] else { continue }
            let resolved = await witness.resolveNames(of: seen.filter(\.isDataChange), in: database.name).filter(\.isDataChange)
            findings += Self.findings(in: database, changes: resolved, logged: logAudit?.loggedStatements(in: database.name) ?? [])
        }
        return findings
    }

    /// The findings `changes` (the data changes the WAL shows in `database`) make, one per
    /// table; changes on a table that one of the `logged` statements (the statement log's
    /// findings in that database) names are that finding's, already reported.
    static func findings(in database: CommandAudit.Database, changes: [WalChange], logged: [String]) -> [LifecycleViolation] {
        let maintenance = CommandAudit.maintenance.contains(database.name)
        var byTable: [String: [WalChange]] = [:]
        var order: [String] = []
        for change in changes {
            let table = change.table ?? change.relation ?? "relation \(change.relfilenode)"
            if logged.contains(where: { CommandAudit.statement($0, names: table) }) { continue }
            if byTable[table] == nil { order.append(table) }
            byTable[table, default: []].append(change)
        }
        return order.map { table in
            let seen = byTable[table, default: []].map(\.description).joined(separator: "; ")
            return LifecycleViolation(
                kind: maintenance ? .writeToMaintenanceDatabase : .writeToForeignDatabase, phase: nil, database: database.name,
                statement: "unknown (seen in the WAL: \(seen))",
                note: maintenance
                    ? "a write into the maintenance database during the test process, found in the WAL (the statement log has no line for it, or not from an app session: a function called from SELECT, a DO block, CALL, a writing CTE, nextval): app code ran on an admin connection"
                    : "a write into a database the toolkit did not create (no owner marker) during the test process, found in the WAL (the statement log has no line for it, or not from an app session: a function called from SELECT, a DO block, CALL, a writing CTE, nextval) — is the app using DATABASE_URL (the dev database) instead of the test database's url?")
        }
    }

    /// The finding for a stretch of the WAL, from `start` to `end` (`nil`: up to whenever the
    /// server answers again), that could not be read because of `error`.
    static func notAudited(from start: WalLSN, to end: WalLSN?, error: any Error) -> LifecycleViolation {
        LifecycleViolation(
            kind: .walNotAudited, phase: nil, database: "*",
            statement: "the WAL from \(start) to \(end.map(\.description) ?? "the end of the run") was not read",
            note: "writes made in that stretch were judged by the statement log alone, which misses writes inside functions, DO blocks, CALL, writing CTEs and nextval. Cause: \(cause(of: error))")
    }

    /// What made a WAL read fail, with what to do about it, named by the error's cause: a
    /// recycled segment is a matter of `wal_keep_size`, an ended session or a server that does
    /// not answer is not.
    static func cause(of error: any Error) -> String {
        var underlying: (any Error)? = error
        var message = "\(error)"
        while let current = underlying {
            if let pg = current as? PGError {
                message = pg.message
                if pg.message.contains("has already been removed") {
                    return "the server recycled that WAL before it was read (\(pg.message)): raise wal_keep_size, or give the toolkit's role REPLICATION so that a slot keeps it"
                }
                if pg.sqlState == .adminShutdown || pg.sqlState?.rawValue.hasPrefix("57P") == true {
                    return "the reading session was ended by the server (SQLSTATE \(pg.sqlState?.rawValue ?? "57P01"): \(pg.message)) — a server shutdown or restart, pg_terminate_backend, or a DROP DATABASE … WITH (FORCE) of the witness"
                }
                if pg.code == .connectionClosed || pg.code == .connectionFailed {
                    return "the server did not answer (\(pg.message)): it was stopped, restarted or unreachable"
                }
                return "the server answered \(pg.sqlState.map { "SQLSTATE \($0.rawValue): " } ?? "")\(pg.message)"
            }
            underlying = (current as? TestKitError)?.underlying
            if let toolkit = current as? TestKitError, underlying == nil { message = toolkit.message }
        }
        return message
    }
}
