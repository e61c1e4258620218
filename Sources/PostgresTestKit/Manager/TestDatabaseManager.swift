import Foundation
import Logging

/// Creates one PostgreSQL database per test and drops it afterwards, through an admin
/// connection to the maintenance database.
///
/// Migrations run once into a template keyed by their fingerprint; each test gets a clone,
/// taken from a pool made ahead. Seeders run only after migrations. Connect hooks run on every
/// test-database connection, guarded so that a write in one is flagged with its source line.
///
/// ```swift
/// extension TestDatabaseManager {
///     static let app = TestDatabaseManager(migrations: .sqlDirectory(migrationsURL),
///                                          seeders: [NotificationTypeSync()])
/// }
/// let db = try await TestDatabaseManager.app.acquire(testName: "placesOrder")
/// ```
public actor TestDatabaseManager {
    /// This manager's run id (in database names and the admin `application_name`).
    package nonisolated let runID: RunID
    /// The database name prefix (`PGTESTKIT_PREFIX`, default `pgtk`).
    public nonisolated let prefix: String
    /// The audit policy in force.
    public nonisolated let auditPolicy: AuditPolicy
    /// Which databases survive their test.
    public nonisolated let keepPolicy: KeepPolicy
    /// The violations recorded so far.
    public nonisolated var violations: [LifecycleViolation] { recorder.all }

    nonisolated let server: PostgresServerConfiguration
    nonisolated let migrations: SchemaMigrations
    nonisolated let seeders: [any Seeder]
    nonisolated let hooks: [ConnectHook]
    nonisolated let label: String
    nonisolated let poolSize: Int
    /// The most ready clones a learned burst grows the pool to (`nil`: an eighth of the
    /// server's `max_connections`, at most 32 — each ready clone holds a connection).
    nonisolated let poolMax: Int?
    /// Whether ready clones outlive the process for the next to adopt (the warm pool).
    nonisolated let warmPool: Bool
    /// The most WAL (bytes) read to prove a ready clone unchanged before adopting it.
    nonisolated let adoptMaxWAL: UInt64
    /// Whether released clones the WAL shows unchanged go back to the pool.
    nonisolated let recycle: Bool
    nonisolated let recorder: ViolationRecorder
    nonisolated let logger: Logger
    nonisolated let prefixError: TestKitError?
    /// The settings the environment gave, parsed once for the process.
    nonisolated let settings: ToolkitSettings
    /// Fired when a preparation ahead of the tests may stop waiting (``prepareAhead()``).
    nonisolated let aheadSignal = ReadySignal()

    var sessionTask: Task<RunSession, any Error>?
    /// Bumped whenever a new session opens, so a stale failure never tears down a newer one.
    var sessionGeneration = 0
    var counter = 0
    /// Set once a ``prepare()`` returned: the session is open, the warm pool adopted.
    package internal(set) var prepared = false
    var outstanding: Set<String> = []
    /// Transaction mode: the shared clone, its idle sandbox connections, and the live ones.
    var sharedClone: Task<PostgresTestDatabase, any Error>?
    var idleSandboxes: [Connection] = []
    var liveSandboxes: Set<ObjectIdentifier> = []

    /// The manager's session with its server, opened by the first acquire (or ``prepare()``):
    /// the admin connection, the dropper, the pool, the lanes, the audits and the keeper. It is
    /// closed in one order by ``shutdown()``, and replaced whole when a recovery opens a new one.
    struct RunSession: Sendable {
        let admin: AdminConnection
        let dropper: BackgroundDropper
        let pool: ClonePool?
        let serverParameters: [String: String]
        let template: TemplateBuilder.Outcome?
        let strategy: CloneStrategy?
        /// The statement-log watch (embedded server, policy not `.off`).
        let logAudit: RunLogAudit?
        /// The WAL watch beside it, opening (the process's witness on this server) while the
        /// first tests run; `nil` where there is no log watch.
        let walAudit: Task<RunWalAudit?, Never>?
        /// Admin connections for clones made on demand, so that a burst is served in parallel.
        let lanes: AdminLanes
        /// Holds the run's lock on a connection of its own: the run stays provably alive
        /// (to every reaper) even when its admin session is killed.
        let keeper: RunKeeper
        /// The start-up chores (reap, collection), begun once its first test database is out.
        let chores: StartUpChores.Trigger
        /// Which session this is (recovery replaces only the one that failed).
        let generation: Int
        /// The embedded TCP server's 0600 `.pgpass`, for the line that connects to a kept
        /// database; `nil` on the socket server and on any other server.
        var passwordFile: String? = nil
    }

    /// Creates a manager; nothing connects until the first ``acquire(testName:isolation:)``.
    ///
    /// Every setting follows one rule: its `PGTESTKIT_*` variable, when set,
    /// wins over the value given here, which wins over the default.
    ///
    /// - Parameters:
    ///   - server: the server; `nil` resolves `PGTESTKIT_URL`, `DATABASE_URL`, `PG*`, then the
    ///     embedded server.
    ///   - prefix: database name prefix (`PGTESTKIT_PREFIX`), default `pgtk`.
    ///   - migrations: how to build the schema, once per fingerprint.
    ///   - seeders: data written after migrations, in order.
    ///   - connectHooks: session set-up run on every test-database connection.
    ///   - audit: the violation policy (`PGTESTKIT_AUDIT`), default `.fail` under `CI=true`,
    ///     else `.warn`.
    ///   - keep: which databases survive (`PGTESTKIT_KEEP`), default `.none`.
    ///   - poolSize: ready clones kept ahead (`PGTESTKIT_POOL_SIZE`), default 2.
    ///   - recycle: put released clones the WAL proves unchanged (or that a reset restores) back
    ///     into the pool instead of dropping them (`PGTESTKIT_RECYCLE=0` turns it off), default on.
    ///   - warmPool: leave the pool's ready clones on the server at the process's exit for the
    ///     next process to adopt (`PGTESTKIT_WARM_POOL=0` turns it off), default on.
    ///   - label: names the template family; templates of the same label and prefix supersede
    ///     each other. Defaults to the migrations directory's name.
    ///   - logger: the toolkit never bootstraps logging; pass yours.
    public init(
        server: PostgresServerConfiguration? = nil,
        prefix: String? = nil,
        migrations: SchemaMigrations = .none,
        seeders: [any Seeder] = [],
        connectHooks: [ConnectHook] = [],
        audit: AuditPolicy? = nil,
        keep: KeepPolicy? = nil,
        poolSize: Int? = nil,
        recycle: Bool? = nil,
        warmPool: Bool? = nil,
        label: String? = nil,
        logger: Logger = Logger(label: "PostgresTestKit")
    ) {
        let environment = ToolkitSettings.process
        self.settings = environment
        self.runID = RunID()
        // One rule for every setting: the environment's, else the code's, else the default.
        let settings = Configuration(prefix: prefix, audit: audit, keep: keep, poolSize: poolSize, recycle: recycle, warmPool: warmPool)
            .overridden(by: environment.manager)
        let prefix = settings.prefix ?? ToolkitSettings.defaultPrefix
        self.prefix = prefix
        do { try DatabaseName.validatePrefix(prefix); prefixError = nil } catch { prefixError = error as? TestKitError }
        self.server = server ?? environment.server
        self.migrations = migrations
        self.seeders = seeders
        self.hooks = connectHooks
        self.auditPolicy = environment.audit(code: audit)
        self.keepPolicy = settings.keep ?? .none
        let poolSize = max(0, settings.poolSize ?? 2)
        self.poolSize = poolSize
        self.poolMax = settings.poolMax.map { max(poolSize, $0) }
        self.warmPool = settings.warmPool ?? true
        self.adoptMaxWAL = UInt64(max(0, settings.adoptMaxWAL ?? 256)) << 20
        self.recycle = settings.recycle ?? true
        self.label = label ?? Self.defaultLabel(for: migrations, seeders: seeders, hooks: connectHooks)
        self.logger = logger
        self.recorder = ViolationRecorder(policy: auditPolicy, logger: logger)
    }

    /// The migrations' name, plus the seeders' and hooks' identities: managers that differ in
    /// any of them have different template families and never supersede each other's
    /// templates, while a changed migration or seeder version does supersede.
    private static func defaultLabel(for migrations: SchemaMigrations, seeders: [any Seeder], hooks: [ConnectHook]) -> String {
        let extras = seeders.filter { $0.scope == .template }.map(\.identity) + hooks.map(\.fingerprintInput)
        return migrationsLabel(migrations) + (extras.isEmpty ? "" : " + " + extras.joined(separator: " + "))
    }

    private static func migrationsLabel(_ migrations: SchemaMigrations) -> String {
        switch migrations.migrator {
        case let directory as SQLDirectoryMigrator:
            directory.directory.deletingLastPathComponent().lastPathComponent + "/" + directory.directory.lastPathComponent
        case nil: "empty"
        case let closure as ClosureMigrator: "code:\(closure.site)"
        default: "code"
        }
    }

    /// Creates a fresh database for one test and returns it, ready (connect hooks and per-test
    /// seeders done).
    ///
    /// - Parameters:
    ///   - testName: carried in the owner marker, and in the database name (sanitised, within
    ///     63 bytes) when the clone is made on demand rather than taken from the pool.
    ///   - isolation: `.database` (default) clones a database for the test; `.transaction`
    ///     runs the test in a rolled-back transaction on a clone shared by the manager.
    public func acquire(testName: String? = nil, isolation: Isolation = .database) async throws -> PostgresTestDatabase {
        try await acquire(testName: testName, suite: nil, isolation: isolation)
    }

    /// ``acquire(testName:isolation:)`` for the test adapters, which also know the test's
    /// suite (the timeline groups its rows by it).
    package func acquire(testName: String?, suite: String?, isolation: Isolation = .database) async throws -> PostgresTestDatabase {
        do {
            if isolation == .transaction { return try await acquireSandbox(testName: testName) }
            do {
                return try await acquireClone(testName: testName, suite: suite)
            } catch let error as PGError where Self.isRecoverable(error) {
                // The server restarted, or the template vanished: the failed session was torn
                // down (once, however many acquires failed on it); prepare again and retry once.
                logger.warning("recovering from \(error.message); reconnecting and preparing again")
                return try await acquireClone(testName: testName, suite: suite)
            }
        } catch let error as PGError {
            throw error.withToolkitHint(embedded: server.isEmbedded)
        }
    }

    static func isRecoverable(_ error: PGError) -> Bool {
        error.code == .connectionClosed || error.sqlState == .invalidCatalogName
    }

    func acquireClone(testName: String?, suite: String? = nil) async throws -> PostgresTestDatabase {
        let started = ContinuousClock.now
        StartUpChores.process.acquireStarted()
        defer { StartUpChores.process.acquireEnded() }   // the last one under way begins the armed chores
        let row = RunReport.shared.openTimelineRow(
            TimelineRow(kind: .test, test: testName, suite: suite, process: ProcessInfo.processInfo.processIdentifier))
        var laps = TimeBreakdown.Laps(row: row, since: (started, Date()))
        do {
            let runSession = try await session()
            laps.record(\.preparation, as: .preparation)
            do {
                let database = try await acquireClone(testName: testName, runSession, started, laps)
                runSession.chores.arm()
                return database
            } catch let error as PGError where Self.isRecoverable(error) {
                await invalidateSession(generation: runSession.generation)
                throw error
            }
        } catch {
            RunReport.shared.update { $0.timeline.update(row) { $0.note = "the acquire failed" } }
            throw error
        }
    }

    /// What a miss did once it had a lane: took a clone that came back meanwhile, or created one.
    private enum LaneOutcome: Sendable {
        case retaken(ClonePool.ReadyClone, Date)
        case created(Date)
    }

    private func acquireClone(
        testName: String?, _ runSession: RunSession, _ started: ContinuousClock.Instant, _ laps: TimeBreakdown.Laps
    ) async throws -> PostgresTestDatabase {
        counter += 1
        let number = counter   // taken before any suspension: other acquires move `counter` on
        let marker = OwnerMarker(kind: .clone, run: runID, test: testName)
        let name: String
        let connection: Connection
        let fromPool: Bool
        var laps = laps
        var leased = await runSession.pool?.lease(marker: marker)
        laps.record(\.poolLease, as: .poolLease)
        var onDemand = ""   // the name of a clone made for this test, on a miss only
        if leased == nil {
            onDemand = DatabaseName.appendingTestName("\(prefix)_\(runID)_\(number)", testName)
            let (name, template, strategy, marker, pool) = (onDemand, runSession.template?.name, runSession.strategy, marker, runSession.pool)
            let made: LaneOutcome
            do {
                made = try await runSession.lanes.withLane { lane in
                    let taken = Date()
                    // A clone that came back while this acquire waited for its lane is a pop.
                    if let clone = await pool?.retake(marker: marker) { return .retaken(clone, taken) }
                    try await lane.createDatabase(name, template: template, strategy: strategy, marker: marker)
                    return .created(taken)
                }
            } catch {
                await runSession.pool?.abandoned(onDemand, endingLease: true)
                throw error
            }
            switch made {
            case .retaken(let clone, let taken):
                // Its lane wait counts under the pool lease in the breakdown (it ended in a pop).
                laps.split(at: taken, as: .laneWait)
                laps.record(\.poolLease, as: .poolLease)
                leased = clone
            case .created(let taken):
                laps.split(at: taken, as: .laneWait)
                laps.record(\.create, as: .create)
            }
        }
        if let pool = runSession.pool, let clone = leased {
            // A pop: created, connected and hook-initialised ahead by the pool. A server
            // restart closed pooled sessions: that is read from the socket, without a round
            // trip (under a parallel burst every hop waits its turn for a thread).
            do {
                try await clone.connection.checkStillOpen()
            } catch {
                await clone.connection.close()
                await pool.abandoned(clone.name)
                await runSession.dropper.enqueue(clone.name, phases: nil)
                throw error
            }
            name = clone.name
            connection = clone.connection
            fromPool = true
            let row = laps.row
            RunReport.shared.update { $0.timeline.popped(name, into: row) }
        } else {
            name = onDemand
            fromPool = false
            do {
                // The window opens before the hooks run, beside the connect (which is longer).
                async let tracked: Void? = runSession.pool?.acquired(name, comment: marker.comment)
                let opened: Connection
                do { opened = try await connect(to: name, runSession) } catch {
                    _ = await tracked
                    throw error
                }
                _ = await tracked
                laps.record(\.connect, as: .connect)
                connection = try await runHooks(on: opened)
            } catch {
                await runSession.pool?.abandoned(name)
                await runSession.dropper.enqueue(name, phases: nil)
                throw error
            }
        }
        outstanding.insert(name)
        let row = laps.row
        RunReport.shared.update { $0.timeline.update(row) { $0.database = name } }
        let phases = PhaseLog(database: name, timelineRow: row)
        var parameters = runSession.serverParameters
        parameters["dbname"] = name
        let connectionString = ConnectionString.keywordForm(parameters)
        let details = ConnectionDetails(parameters: parameters)
        do {
            let perTest = seeders.filter { $0.scope == .perTest }
            if !perTest.isEmpty {
                try phases.enter(.seeding)
                let context = PreparationContext(database: name, connection: connection, connectionString: connectionString, connectionDetails: details, phase: .seeding, logger: logger)
                for seeder in perTest {
                    do { try await seeder.seed(context) }
                    catch { throw TestKitError(.seedFailed, "per-test seeder \(seeder.identity) failed on \(name): \(error)", underlying: error) }
                }
            }
            try phases.enter(.ready)
            laps.record(\.hooksAndSeeding, as: .hooks)
        } catch {
            outstanding.remove(name)
            await connection.close()
            await runSession.pool?.abandoned(name)
            await runSession.dropper.enqueue(name, phases: nil)
            throw error
        }
        runSession.logAudit?.began(name)
        let elapsed = (ContinuousClock.now - started).milliseconds
        RunReport.shared.update {
            $0.databasesCreated += 1
            if fromPool { $0.databasesFromPool += 1 }
            $0.setupMilliseconds += elapsed
        }
        logger.debug("acquired \(name) in \(String(format: "%.1f", elapsed)) ms\(fromPool ? " (pool)" : "")")
        return PostgresTestDatabase(name: name, testName: testName, connectionString: connectionString, connectionDetails: details,
                            connection: connection, phases: phases, fromPool: fromPool, isolation: .database, manager: self)
    }

    /// Opens the toolkit's connection to a test database and runs the connect hooks (guarded).
    func connectAndRunHooks(to name: String, _ runSession: RunSession) async throws -> Connection {
        try await runHooks(on: try await connect(to: name, runSession))
    }

    /// Opens the toolkit's connection to a test database.
    private func connect(to name: String, _ runSession: RunSession) async throws -> Connection {
        try await Connection.connect(to: .keywordForm(runSession.serverParameters, database: name), applicationName: testApplicationName, logger: logger)
    }

    /// Runs the connect hooks (guarded) on a test database's new connection; closes it when they fail.
    private func runHooks(on connection: Connection) async throws -> Connection {
        try await HookGuard(hooks: hooks, recorder: recorder).runOrClose(connection, database: await connection.database)
    }

    /// The `application_name` of the toolkit's own test-database connections.
    nonisolated var testApplicationName: String { "pgtestkit-test:\(runID)" }

    /// Hands a test database back: closes the toolkit's connection, reports sessions still
    /// connected (a leaked connection or pool) as findings, then drops it in the background —
    /// or keeps it, under the keep policy.
    ///
    /// Throws a `.lifecycleViolation` error under the `.fail` policy when sessions leaked.
    public func release(_ database: PostgresTestDatabase, testFailed: Bool = false) async throws {
        if database.isolation == .transaction { return await releaseSandbox(database) }
        guard outstanding.remove(database.name) != nil, let sessionTask else { return }
        let runSession = try await sessionTask.value   // never opens a new session (e.g. after shutdown)
        database.recordTestTime()
        try? database.phases.enter(.releasing)
        await database.connection.close()
        // A dead server (restart) must not keep the database from being queued for its drop.
        var laps = TimeBreakdown.Laps(row: database.phases.timelineRow)
        let leaked = (try? await leakedSessions(on: database.name, runSession.admin)) ?? []
        laps.record(\.leakCheck, as: .leakCheck)
        var failure: TestKitError?
        if let audit = runSession.logAudit {
            audit.ended(database.name)
            recordForTheRun(await audit.scan(checkingMarkersWith: runSession.admin))
        }
        laps.record(\.logScan, as: .logScan)
        if let walAudit = await runSession.walAudit?.value {
            // The read runs off the test's path (its findings blame no test either); queued
            // now, so that a shutdown's own read comes after it.
            await walAudit.poke { [weak self] findings in await self?.recordForTheRun(findings) }
        }
        for session in leaked {
            let violation = LifecycleViolation(
                kind: .leakedSession, phase: .releasing, database: database.name, statement: session.lastQuery,
                sessionPID: session.pid, applicationName: session.applicationName,
                note: "a session (state \(session.state ?? "?")) was still connected when the test ended; close the app's connections or pool in the test's teardown")
            failure = recorder.record(violation) ?? failure
        }
        if keepPolicy == .all || (keepPolicy == .failed && testFailed) {
            await runSession.pool?.abandoned(database.name)   // kept: it never comes back
            await runSession.pool?.awaitMarkerWrite(of: database.name)   // its marker write must not land after ours
            var marker = OwnerMarker(kind: .clone, run: runID, test: database.testName)
            marker.kept = true
            try await runSession.admin.writeMarker(marker, on: database.name)   // kept: out of the exit's cleanup
            try? database.phases.enter(.kept)
            let line = "\(database.name) (test \(database.testName ?? "?")): "
                + Self.keptCommand(database.connectionDetails, passwordFile: runSession.passwordFile)
            let row = database.phases.timelineRow
            RunReport.shared.update {
                $0.databasesKept += 1
                $0.kept.append(line)
                $0.timeline.update(row) { $0.outcome = .kept }
            }
            logger.notice("kept test database \(line)")
        } else if let pool = runSession.pool {
            // Judged off the test's path: back into the pool if unchanged or reset, else dropped.
            await pool.giveBack(database.name, recyclable: leaked.isEmpty && failure == nil,
                                dropper: runSession.dropper, phases: database.phases)
            laps.record(\.handOff, as: .handOff)
        } else {
            await runSession.dropper.enqueue(database.name, phases: database.phases)
            laps.record(\.handOff, as: .handOff)
        }
        if let failure { throw failure }
    }

    /// A shell command that connects to a kept database as printed, and never holds its
    /// password: the URL without it, and on the embedded TCP server `PGPASSFILE` naming the
    /// server's 0600 `.pgpass` (libpq reads the password there). On another server with a
    /// password, libpq takes it from `PGPASSWORD` or the user's own `.pgpass`, as the note says.
    nonisolated static func keptCommand(_ details: ConnectionDetails, passwordFile: String?) -> String {
        let psql = "psql " + details.withoutPassword.url.shellQuoted
        if let passwordFile { return "PGPASSFILE=" + passwordFile.shellQuoted + " " + psql }
        return details.password == nil ? psql : psql + " (password: PGPASSWORD or PGPASSFILE)"
    }

    /// Sessions still connected to a released database, other than the toolkit's own. A client
    /// that closed just before the release leaves its server backend for a moment: sessions
    /// are only reported if they are still there after a short, bounded wait.
    private func leakedSessions(on name: String, _ admin: AdminConnection) async throws -> [SessionInfo] {
        // A second: on a loaded machine a backend can take hundreds of milliseconds to exit.
        try await admin.waitForNoSessions(on: name, timeout: .seconds(1), ignoring: testApplicationName)
    }

    /// Records findings no single test can be blamed for: reported for the run, and under
    /// `.fail` they fail the run (the process exits non-zero after the tests).
    func recordForTheRun(_ violations: [LifecycleViolation]) {
        for violation in violations where recorder.record(violation) != nil {
            RunReport.shared.update { $0.failsRun = true }
        }
    }

    /// Drops the pool and every database not yet dropped, waits for background drops, and
    /// closes the admin connections. The process exit does the same if this is never called.
    public func shutdown() async {
        for connection in idleSandboxes { await connection.close() }
        idleSandboxes.removeAll()
        if let sharedClone, let shared = try? await sharedClone.value { try? await release(shared) }
        sharedClone = nil
        guard let sessionTask else { return }
        self.sessionTask = nil       // acquires from now on prepare afresh
        sessionGeneration += 1
        let unreleased = outstanding  // taken before any await: later acquires belong to a new session
        outstanding.removeAll()
        guard let runSession = try? await sessionTask.value else { return }
        ProcessShutdown.shared.unregisterFinalRead(for: self)   // read here, before the pool closes
        if let audit = runSession.logAudit {
            var reader = ServerLogReader(path: audit.path)   // from the current end: only waits for the mark
            _ = try? await reader.readThrough(runSession.admin.connection, timeout: .milliseconds(500))   // flush the log
            for name in unreleased { audit.ended(name) }
            recordForTheRun(await audit.scan(checkingMarkersWith: runSession.admin))
        }
        if let walAudit = await runSession.walAudit?.value {
            recordForTheRun(await walAudit.scan())
        }
        await runSession.pool?.close()
        for name in unreleased { await runSession.dropper.enqueue(name, phases: nil) }
        await runSession.dropper.close()
        await runSession.lanes.close()
        runSession.chores.fire()   // a session that handed out nothing still reaps
        await StartUpChores.settle()   // a short run still finishes its reap
        await runSession.keeper.stop()
        await runSession.admin.close()
    }

    /// Runs the run audit up to now — the statement log (flushed first) and the WAL — and
    /// records what it found, as ``shutdown()`` does: at the process exit (``ProcessShutdown``'s
    /// final read), and for tests that look at the findings while the manager goes on.
    package func auditRunNow() async {
        guard let sessionTask, let runSession = try? await sessionTask.value else { return }
        if let audit = runSession.logAudit {
            var reader = ServerLogReader(path: audit.path)
            _ = try? await reader.readThrough(runSession.admin.connection, timeout: .milliseconds(500))
            recordForTheRun(await audit.scan(checkingMarkersWith: runSession.admin))
        }
        if let walAudit = await runSession.walAudit?.value {
            recordForTheRun(await walAudit.scan())
        }
    }

    /// Whether the run audit reads the WAL on this manager's server (the witness opened).
    package var runAuditReadsWAL: Bool {
        get async {
            guard let sessionTask, let runSession = try? await sessionTask.value else { return false }
            return await runSession.walAudit?.value != nil
        }
    }

    /// Waits until every released database has been dropped, or recycled into the pool.
    package func waitForDrops() async {
        guard let sessionTask, let runSession = try? await sessionTask.value else { return }
        await runSession.pool?.settle()
        await runSession.dropper.flush()
    }
}
