import Foundation
import Logging

extension TestDatabaseManager {
    /// Connects, builds or reuses the template and starts the pool, if not done yet.
    /// ``acquire(testName:isolation:)`` calls it; call it early to move that work out of the first test.
    public func prepare() async throws {
        do {
            // Returns with the clones adopted from the warm pool ready (an acquire meanwhile
            // takes each as soon as it is back).
            let session = try await session()
            await session.pool?.adoptionSettled()
            prepared = true
        } catch let error as PGError {
            throw error.withToolkitHint(embedded: server.isEmbedded)
        }
    }

    /// Prepares before the tests start (Swift Testing's planning calls it for each test of a
    /// suite with the trait): returns when the session is open and the adopted clones are
    /// ready, or as soon as it is known that a template must be built — the build goes on
    /// beside the other managers' preparations instead of one after the other. It never
    /// throws: a failure is met again, and reported, by the first acquire. It waits 30 s at
    /// most (a preparation that hangs is left to the tests, which have time limits). The time
    /// it waited is reported as preparation before the tests.
    package nonisolated func prepareAhead() async {
        guard !aheadSignal.hasFired else { return }
        let started = ContinuousClock.now
        let startedDate = Date()
        if aheadSignal.begin() {
            Task { [self, aheadSignal] in
                do { try await prepare() } catch { logger.debug("preparing ahead failed (the first acquire says why): \(error)") }
                aheadSignal.fire()
            }
            Task { [aheadSignal, logger] in
                try? await Task.sleep(for: .seconds(30))
                guard !aheadSignal.hasFired else { return }
                // Not cancelled: the tests' acquires wait for the same preparation.
                logger.warning("preparing before the tests took over 30 s; the tests start, and wait for it")
                aheadSignal.fire()
            }
        }
        await aheadSignal.wait()
        let waited = (ContinuousClock.now - started).milliseconds
        // A row of its own in the picture: the tests' rows no longer show this wait.
        let row = RunReport.shared.openTimelineRow(TimelineRow(kind: .preparation, test: label, process: ProcessInfo.processInfo.processIdentifier))
        let span = TimelineSpan(.preparation, from: startedDate, to: Date())
        RunReport.shared.update {
            $0.preparedAheadMilliseconds += waited
            $0.timeline.add(span, to: row)
        }
    }

    /// Whether a preparation ahead of the tests ran (``prepareAhead()``) and may no longer be
    /// waited for: the session is open, a template is being built, or it failed.
    package nonisolated var preparedAhead: Bool { aheadSignal.hasFired }

    func session() async throws -> RunSession {
        if let sessionTask { return try await sessionTask.value }
        sessionGeneration += 1
        let generation = sessionGeneration
        let task = Task { try await self.openSession(generation: generation) }
        sessionTask = task
        do {
            return try await task.value
        } catch {
            // The next acquire tries again (e.g. after a server restart), unless a newer
            // session already replaced this one.
            if generation == sessionGeneration { sessionTask = nil }
            throw error
        }
    }

    func openSession(generation: Int) async throws -> RunSession {
        if let prefixError { throw prefixError }
        if !settings.unreadable.isEmpty {   // said once per process, not ignored in silence
            StartUpChores.begin("unreadable settings", logger: logger) { [logger, settings] in
                for line in settings.unreadable { logger.warning("\(line)") }
            }
        }
        logger.info("PostgresTestKit uses \(server)")
        var laps = StepLaps()
        // The server is resolved once per session (an embedded one: found and started once).
        let embedded = try await server.embeddedServer()
        let connectionString: ConnectionString
        if let embedded {
            connectionString = try await embedded.start(logger: logger)
        } else {
            connectionString = try await server.resolve(logger: logger)
        }
        laps.record("server")
        let admin = try await AdminConnection.connect(to: connectionString, runID: runID, logger: logger)
        laps.record("admin connect")
        var keeper: RunKeeper?
        do {
            var parameters = await admin.connection.effectiveParameters()
            parameters["application_name"] = nil
            parameters["fallback_application_name"] = nil
            let serverKey = ["host", "hostaddr", "port", "user"].map { parameters[$0] ?? "" }.joined(separator: " ")
            if embedded == nil {   // once per process and server: is it slow for test databases?
                StartUpChores.begin("slow server \(serverKey)", logger: logger) { [admin, logger, parameters] in
                    guard let row = try? await admin.query("SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')").rows.first,
                          let note = SlowServerNote.judge(
                            settings: ["fsync": row[0] ?? "", "synchronous_commit": row[1] ?? "", "full_page_writes": row[2] ?? ""],
                            host: parameters["hostaddr"].flatMap { $0.isEmpty ? nil : $0 } ?? parameters["host"] ?? "", embedded: false) else { return }
                    RunReport.shared.update { $0.slowServer = note }
                    logger.info("\(note.message(meanCreateMilliseconds: nil))")
                }
            }
            let allowList = settings.allowedHosts
            try allowList.check(parameters["host"] ?? "", source: server.description)
            try allowList.check(parameters["hostaddr"] ?? "", source: server.description)
            let (description, version) = (server.description, RunTimeline.versionName(await admin.connection.serverVersion))
            RunReport.shared.update { $0.timeline.server = description; $0.timeline.postgresVersion = version }
            // Proof of life beyond the admin session, which a timeout or a DBA may kill.
            keeper = await RunKeeper.start(server: connectionString, runID: runID, logger: logger)
            laps.record("keeper")
            // Once per process and server (the reaper once per prefix), beside the tests
            // (``StartUpChores``). The process's WAL witness is named by its own prefix (it
            // serves every manager): a killed run's witness goes with this reaping too.
            let ttl = try settings.templateTTL.get()   // a malformed PGTESTKIT_TEMPLATE_TTL fails every session
            let chores = StartUpChores.Trigger { [connectionString, serverKey, prefix, settings, runID, logger] in
                StartUpChores.beginReapAndCollect(
                    on: connectionString, serverKey: serverKey, prefixes: Array(Set([prefix, settings.witnessPrefix])).sorted(),
                    grace: settings.reapGrace, ttl: ttl, runID: runID, logger: logger)
            }
            if let embedded {
                do { try await embedded.rotateLogIfLarge(using: admin.connection) }
                catch { logger.warning("the embedded server's statement log could not be rotated: \(error)") }
            }
            try await HookGuard(hooks: hooks, recorder: recorder)
                .run(on: admin.connection, database: admin.database, phase: .connecting, migrated: true, admin: true)
            laps.record("log rotation and hooks")
            var template: TemplateBuilder.Outcome?
            let templated = migrations.migrator != nil || seeders.contains(where: { $0.scope == .template })
            if (templated && poolSize > 0 && recycle) || (auditPolicy != .off && embedded != nil) {
                // The pool's recycling and the run audit will wait for the process's WAL
                // witness (a database of its own to create): it is made beside the template's
                // lookup and the pool's connections, not after them.
                ProcessWalWitness.beginOpening(server: connectionString, serverParameters: parameters, logger: logger)
            }
            if templated {
                var builder = TemplateBuilder(
                    server: connectionString, serverParameters: parameters, prefix: prefix, label: label,
                    migrations: migrations, seeders: seeders, hookGuard: HookGuard(hooks: hooks, recorder: recorder),
                    runID: runID, rebuild: settings.rebuildTemplate,
                    serverLog: embedded?.logFile, logger: logger)
                builder.willBuild = { [aheadSignal] in aheadSignal.fire() }
                if auditPolicy != .off {
                    builder.witness = { [connectionString, parameters, logger] in
                        try? await ProcessWalWitness.shared(server: connectionString, serverParameters: parameters, logger: logger).get()
                    }
                }
                template = try await builder.ensure(using: admin)
            }
            laps.record("template")
            var strategy: CloneStrategy?
            if let template { strategy = try await CloneStrategyProbe.choose(template: template, forced: settings.cloneStrategy, admin: admin, logger: logger) }
            laps.record("clone strategy")
            let lanes = AdminLanes(server: connectionString, runID: runID,
                                   limit: AdminLanes.defaultLimit(host: parameters["host"] ?? "", configured: settings.createConnections), logger: logger)
            // The session's other connections open at once: the dropper's, the pool's, and a
            // first lane for the first test's create (which waited for it, 18 ms, after).
            let pooled = template != nil && poolSize > 0
            async let firstLane: Void = lanes.openOne()
            async let dropAdmin = AdminConnection.connect(to: connectionString, runID: runID, applicationName: runID.adminApplicationName + ":drop", logger: logger)
            async let poolAdminConnection = pooled
                ? AdminConnection.connect(to: connectionString, runID: runID, applicationName: runID.adminApplicationName + ":pool", logger: logger) : nil
            let dropper = BackgroundDropper(admin: try await dropAdmin, lanes: lanes, logger: logger)
            let poolAdminOpened = try await poolAdminConnection
            await firstLane
            var pool: ClonePool?
            if let template, let poolAdmin = poolAdminOpened {
                // The generation keeps the names of a pool made after a recovery apart from the
                // clones of the previous pool that tests may still hold.
                let recycler = Task { [logger, parameters, connectionString, recycle] in
                    await CloneRecycler.start(template: template, server: connectionString, serverParameters: parameters,
                                              enabled: recycle, logger: logger)
                }
                var ceiling = poolMax ?? 8
                if poolMax == nil, let slots = try? await admin.query("SELECT current_setting('max_connections')::int").rows.first?.decode(Int.self, at: 0) {
                    ceiling = min(32, slots / 8)   // each ready clone holds a connection
                }
                let clones = ClonePool(admin: poolAdmin, template: template.name, strategy: strategy, size: poolSize, ceiling: max(poolSize, ceiling),
                                       prefix: prefix, namePrefix: "\(prefix)_\(runID)_g\(generation)p", serverParameters: parameters,
                                       applicationName: testApplicationName,
                                       hookGuard: HookGuard(hooks: hooks, recorder: recorder), recycler: recycler,
                                       baseline: template.marker?.baseline, warm: warmPool && recycle, adoptMaxWAL: adoptMaxWAL, logger: logger)
                laps.record("pool connections")
                await clones.start()
                laps.record("pool start (adoption)")
                pool = clones
            }
            var logAudit: RunLogAudit?
            var walAudit: Task<RunWalAudit?, Never>?
            if auditPolicy != .off, let embedded {
                let audit = RunLogAudit.shared(logFile: embedded.logFile)
                logAudit = audit
                walAudit = Task { [logger, parameters, connectionString] in
                    await RunWalAudit.shared(server: connectionString, serverParameters: parameters, logAudit: audit, logger: logger)
                }
                // A test process rarely calls shutdown(): the exit reads the audit one last
                // time, before its cleanup drops the WAL witness.
                ProcessShutdown.shared.registerFinalRead(for: self, policy: auditPolicy) { [weak self] in
                    await self?.auditRunNow()
                }
            }
            logger.debug("session opened in \(laps)")
            return RunSession(admin: admin, dropper: dropper, pool: pool, serverParameters: parameters, template: template,
                            strategy: strategy, logAudit: logAudit, walAudit: walAudit,
                            lanes: lanes,
                            keeper: keeper!, chores: chores, generation: generation,
                            passwordFile: embedded?.tcp == true ? embedded?.passwordFile : nil)
        } catch {
            await keeper?.stop()
            await admin.close()
            throw error
        }
    }

    /// The template this manager clones, once its session is open (`nil` without migrations or seeders).
    public var templateName: String? {
        get async throws { try await session().template?.name }
    }

    /// The clone strategy in use (measured once per template and remembered in its marker).
    package var cloneStrategy: CloneStrategy? {
        get async throws { try await session().strategy }
    }

    /// How many ready clones the pool holds now.
    package var pooledClones: Int {
        get async throws {
            guard let pool = try await session().pool else { return 0 }
            return await pool.count
        }
    }

    /// Waits (bounded) until the pool holds `count` ready clones, or its full size.
    package func waitForPool(_ count: Int? = nil, timeout: Duration = .seconds(30)) async throws {
        let target = min(count ?? poolSize, poolSize)
        let ready = try await Deadline.poll(for: timeout, every: .milliseconds(5), until: { $0 >= target }) { try await pooledClones }
        guard ready >= target else {
            throw TestKitError(.timeout, "the clone pool did not reach \(target) ready clones within \(timeout)")
        }
    }

    /// The verdicts on released clones so far (recycled, or dropped and why).
    package var recycleVerdicts: [RecycleVerdict] {
        get async {
            guard let sessionTask, let pool = (try? await sessionTask.value)?.pool else { return [] }
            return await pool.verdicts
        }
    }

    /// Whether released clones are recycled (the WAL witness is open); waits for the pool's
    /// first fill to know.
    package var recyclesClones: Bool {
        get async throws {
            guard let pool = try await session().pool else { return false }
            try await waitForPool(1)
            return await pool.recycles
        }
    }

    /// Whether an outstanding clone has a WAL window (and can be recycled at its release).
    package func hasRecycleWindow(_ name: String) async -> Bool {
        guard let sessionTask, let pool = (try? await sessionTask.value)?.pool else { return false }
        return await pool.canComeBack(name)
    }

    /// Waits until every released clone has its verdict.
    package func settleRecycling() async {
        guard let sessionTask, let runSession = try? await sessionTask.value else { return }
        await runSession.pool?.settle()
    }

    /// Whether preparing this manager built the template (`false`: reused, no migration work).
    package var builtTemplate: Bool {
        get async throws { try await session().template?.built ?? false }
    }

    func invalidateSession(generation: Int) async {
        guard let sessionTask, generation == sessionGeneration else { return }
        self.sessionTask = nil
        if let runSession = try? await sessionTask.value {
            await runSession.pool?.close()
            await runSession.dropper.close()
            await runSession.lanes.close()
            await runSession.keeper.stop()
            await runSession.admin.close()
        }
    }
}
