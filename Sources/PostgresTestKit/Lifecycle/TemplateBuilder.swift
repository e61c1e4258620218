import Foundation
import Logging

/// Builds a template database once per fingerprint per server: connect → migrate → seed →
/// ready, under an advisory lock, into a scratch name that is published by rename only when
/// every step succeeded.
struct TemplateBuilder: Sendable {
    struct Outcome: Sendable {
        let name: String
        let fingerprint: String
        let built: Bool
        /// The marker as published (carries the measured clone strategy once known).
        var marker: OwnerMarker?
        let phases: PhaseLog?
        let duration: Duration
    }

    let server: ConnectionString
    let serverParameters: [String: String]
    let prefix: String
    let label: String
    let migrations: SchemaMigrations
    let seeders: [any Seeder]
    let hookGuard: HookGuard
    let runID: RunID
    let rebuild: Bool
    /// The server's JSON log, when readable (embedded server): refused early writes by other
    /// clients are found there.
    let serverLog: String?
    let logger: Logger
    /// Opens (or finds) the process's WAL witness, when the audit may read the WAL: it sees
    /// writes into the template before its migrations start that the database guard did not
    /// refuse. Called only when a template is built: a reused one needs no witness.
    var witness: (@Sendable () async -> ProcessWalWitness?)? = nil
    /// Called once it is known that the template must be built (not published with this
    /// fingerprint): a preparation ahead of the tests stops waiting there.
    var willBuild: (@Sendable () -> Void)? = nil

    func ensure(using admin: AdminConnection) async throws -> Outcome {
        let started = ContinuousClock.now
        let inputs = try await TemplateFingerprint.inputs(
            migrations: migrations, seeders: seeders, hooks: hookGuard.hooks, serverMajorVersion: admin.serverMajorVersion,
            role: serverParameters["user"] ?? "")   // the user libpq logged in as (PQuser)
        let fingerprint = try await TemplateFingerprint.compute(inputs, on: admin)
        let name = "\(prefix)_tpl_\(fingerprint.prefix(16))"
        try DatabaseName.validate(name)
        try await admin.holdTemplate(name)   // from now on no other run drops it as superseded
        if !rebuild, let marker = try await published(name, fingerprint, admin) {
            return await reused(name, fingerprint, marker, started, admin)
        }
        willBuild?()
        let lock = try await AdminConnection.connect(
            to: server, runID: runID, applicationName: runID.adminApplicationName + ":lock", logger: logger)
        do {
            try await lock.advisoryLock("template:" + name)
            let outcome: Outcome
            if !rebuild, let marker = try await published(name, fingerprint, admin) {
                outcome = await reused(name, fingerprint, marker, started, admin)   // another process built it meanwhile
            } else {
                outcome = try await build(name, fingerprint, admin, started)
            }
            await lock.close()
            return outcome
        } catch {
            await lock.close()
            throw error
        }
    }

    /// The template's marker when it is published with this fingerprint.
    private func published(_ name: String, _ fingerprint: String, _ admin: AdminConnection) async throws -> OwnerMarker? {
        guard let marker = try await admin.marker(of: name),
              marker.kind == .template, marker.fingerprint == fingerprint else { return nil }
        return marker
    }

    private func reused(
        _ name: String, _ fingerprint: String, _ marker: OwnerMarker, _ started: ContinuousClock.Instant, _ admin: AdminConnection
    ) async -> Outcome {
        logger.info("reusing template \(name): fingerprint unchanged, no migration work")
        RunReport.shared.update { $0.templatesReused += 1 }
        // Beside the tests (a chore of this process, on a connection of its own): the last
        // use, for collection by TTL — written at most once a minute, and only by its owner —
        // and the drop of a superseded template a live run held when this one was built.
        StartUpChores.begin("reused \(name) \(runID)", logger: logger) { [self, server, runID, logger, marker] in
            try await StartUpChores.withChoreConnection(server, runID: runID, logger: logger) { admin in
                // Read afresh: the clone strategy may have been written into it meanwhile.
                if Date().timeIntervalSince(marker.lastUsedDate ?? .distantPast) > 60, (try? await admin.ownsDatabase(name)) == true,
                   var marker = try? await admin.marker(of: name), marker.kind == .template, marker.fingerprint == fingerprint {
                    marker.lastUsed = OwnerMarker.timestamp(Date())
                    do { try await admin.writeMarker(marker, on: name) }
                    catch { logger.debug("could not record the last use of \(name): \(error)") }
                }
                await dropSuperseded(by: name, admin)
            }
        }
        return Outcome(name: name, fingerprint: fingerprint, built: false, marker: marker,
                       phases: nil, duration: ContinuousClock.now - started)
    }

    private func build(_ name: String, _ fingerprint: String, _ admin: AdminConnection, _ started: ContinuousClock.Instant) async throws -> Outcome {
        var replacing = false
        if try await admin.exists(name) {
            // PGTESTKIT_REBUILD=1 (or a half-published leftover): never from under a live run.
            // One in use is built beside and swapped in when the new one is ready.
            replacing = !(try await admin.ifTemplateUnused(name) { try await admin.dropDatabase(name) })
        }
        let scratch = "\(prefix)_tplb_\(fingerprint.prefix(12))_\(runID)"
        try await admin.createDatabase(scratch, marker: OwnerMarker(kind: .scratch, run: runID, fingerprint: fingerprint, label: label))
        let phases = PhaseLog(database: scratch)
        var log = serverLog.map { ServerLogReader(path: $0) }
        var connection: Connection?
        let guardWindow = await openGuardWindow(on: scratch)
        do {
            if hookGuard.recorder.policy != .off { try await admin.setWriteGuard(scratch, enabled: true) }
            var parameters = serverParameters
            parameters["dbname"] = scratch
            let connectionString = ConnectionString.keywordForm(parameters)
            let session = try await Connection.connect(
                to: connectionString, applicationName: "pgtestkit-build:\(runID)", logger: logger)
            connection = session
            try await hookGuard.run(on: session, database: scratch, phase: .connecting, migrated: false)
            // The migrator's own session lifts the database guard for itself.
            try await session.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            func context(_ phase: Phase) -> PreparationContext {
                PreparationContext(database: scratch, connection: session, connectionString: connectionString,
                                connectionDetails: ConnectionDetails(parameters: parameters), phase: phase, logger: logger)
            }
            try await reportRefusedWrites(on: scratch, migratorPID: await session.backendPID, log: &log, admin)
            try await reportWritesPastTheGuard(on: scratch, guardWindow)
            try phases.enter(.migrating)
            // Migrations start: lift the guard for new sessions too (an app's own client may
            // run its migrations through context.url).
            if hookGuard.recorder.policy != .off { try await admin.setWriteGuard(scratch, enabled: false) }
            if let migrator = migrations.migrator {
                do {
                    try await migrator.migrate(context(.migrating))
                } catch {
                    // A boot step that wrote before the schema existed is the likelier story.
                    try await reportWritesBeforeSchema(on: scratch, log: &log, admin)
                    if let error = error as? TestKitError { throw error }
                    throw TestKitError(.migrationFailed, "the migrations failed on \(scratch): \(error). Nothing was published.", underlying: error)
                }
                try await reportWritesBeforeSchema(on: scratch, log: &log, admin)
            }
            try phases.enter(.seeding)
            for seeder in seeders where seeder.scope == .template {
                try phases.require(.seeding, for: "seeder \(seeder.identity)")
                do { try await seeder.seed(context(.seeding)) }
                catch let error as TestKitError { throw error }
                catch { throw TestKitError(.seedFailed, "seeder \(seeder.identity) failed on \(scratch): \(error). Nothing was published.", underlying: error) }
            }
            let recycling = await readyForRecycling(session)
            try phases.enter(.ready)
            await session.close()
            connection = nil
            try await publish(scratch, as: name, fingerprint, replacing: replacing, recycling: recycling, admin)
        } catch {
            await connection?.close()
            await guardWindow?.witness.closeSession()   // closed already when the window was read
            _ = try? await admin.waitForNoSessions(on: scratch, timeout: .seconds(1))
            _ = try? await admin.dropDatabase(scratch)
            throw error
        }
        let duration = ContinuousClock.now - started
        let (end, events, label) = (Date(), phases.events, label)
        RunReport.shared.update {
            $0.templatesBuilt += 1
            $0.timeline.addTemplateBuild(name: name, scratch: scratch, label: label, start: end - duration.milliseconds / 1000, events: events, end: end)
        }
        logger.info("built template \(name) in \(String(format: "%.1f", duration.milliseconds)) ms: \(phases.summary)")
        await dropSuperseded(by: name, admin)
        return Outcome(name: name, fingerprint: fingerprint, built: true, marker: try? await admin.marker(of: name),
                       phases: phases, duration: duration)
    }

    /// Where the database guard's window opened in the WAL: the scratch database's OID and
    /// the mark taken before anything but the toolkit could reach it; `nil` without a witness.
    private func openGuardWindow(on scratch: String) async -> (witness: WalWitness, oid: UInt32, start: WalLSN)? {
        guard hookGuard.recorder.policy != .off, let witness = await witness?() else { return nil }
        do {
            return try await witness.retryingOnce { current in
                // A session of its own: the process's witness may be busy with verdicts.
                let reader = try await current.sibling()
                do {
                    guard let state = try await reader.sharedState(of: scratch) else {
                        await reader.closeSession()
                        return nil
                    }
                    return (reader, state.oid, state.lsn)
                } catch {
                    await reader.closeSession()
                    throw error
                }
            }
        } catch {
            logger.debug("the WAL cannot watch the template's guard window: \(error)")
            return nil
        }
    }

    /// Reports the data the WAL shows written into the template before its migrations start,
    /// whoever wrote it: a client that lifted the database guard (`BEGIN READ WRITE`,
    /// `SET default_transaction_read_only = off`) and wrote where the statement log has no
    /// line for it, or has one the guard's check does not read. A hook's own write, which the
    /// hook guard reported already, is not reported twice.
    private func reportWritesPastTheGuard(
        on scratch: String, _ window: (witness: WalWitness, oid: UInt32, start: WalLSN)?
    ) async throws {
        guard let window else { return }
        let changes: [WalChange]
        do {
            let end = try await window.witness.mark()
            let records = try await window.witness.records(from: window.start, to: end, database: window.oid)
            let seen = WalChange.changes(from: records).filter { $0.database == window.oid && $0.isDataChange }
            changes = await window.witness.resolveNames(of: seen, in: scratch).filter(\.isDataChange)
        } catch {
            await window.witness.closeSession()
            logger.debug("the WAL could not be read for the template's guard window: \(error)")
            return
        }
        await window.witness.closeSession()
        guard !changes.isEmpty, !hookGuard.recorder.all.contains(where: { $0.database == scratch }) else { return }
        let violation = LifecycleViolation(
            kind: .writeBeforeMigrations, phase: .connecting, database: scratch,
            statement: "unknown (seen in the WAL: \(changes.map(\.description).joined(separator: "; ")))",
            note: "a client wrote to the template database before its migrations started, past the database guard (BEGIN READ WRITE or SET default_transaction_read_only = off), found in the WAL; start the app's pool and boot steps after the migrations (a Seeder, or a post-migrate step)")
        if let failure = hookGuard.recorder.record(violation) { throw failure }
    }

    /// Reports the writes the database guard refused while connecting: another client (an
    /// app's pool, a second library) tried to write before migrations started.
    private func reportRefusedWrites(on scratch: String, migratorPID: Int32, log: inout ServerLogReader?, _ admin: AdminConnection) async throws {
        guard var reader = log, reader.isReadable, hookGuard.recorder.policy != .off else { return }
        let entries = try await reader.readThrough(admin.connection)
        log = reader
        for entry in entries where entry.dbname == scratch && entry.stateCode == .readOnlySQLTransaction && entry.pid != migratorPID {
            let violation = LifecycleViolation(
                kind: .writeBeforeMigrations, phase: .connecting, database: scratch, statement: entry.statement,
                sqlState: .readOnlySQLTransaction, sessionPID: entry.pid, applicationName: entry.applicationName,
                note: "another client wrote to the template database before its migrations started; the database guard refused it (found in the server log)")
            if let failure = hookGuard.recorder.record(violation) { throw failure }
        }
    }

    /// Reports what wrote to the template database during `migrating` before its first schema
    /// change: an app's boot step that seeds (a Vapor `LifecycleHandler`, a Hummingbird service)
    /// run before its migrations, the Swift form of a `connection_created` receiver. A write
    /// refused because a table did not exist yet (42P01 and its kin) counts too.
    private func reportWritesBeforeSchema(on scratch: String, log: inout ServerLogReader?, _ admin: AdminConnection) async throws {
        guard var reader = log, reader.isReadable, hookGuard.recorder.policy != .off else { return }
        let entries = try await reader.readThrough(admin.connection)
        log = reader
        let missingObject = SQLState.missingObject.union([.undefinedObject])
        for entry in entries where entry.dbname == scratch {
            if let statement = entry.loggedStatement {
                if StatementClassifier.isSchemaDDL(statement) { return }   // migrations have begun
                if StatementClassifier.isAdministration(statement) { continue }
                try record(statement, sqlState: nil, entry, scratch,
                           note: "written during migrating, before the first schema change (found in the server log): a boot step that seeds before the migrations ran; move it into a Seeder, which runs after them")
            } else if entry.severity == "ERROR", let state = entry.stateCode, missingObject.contains(state) {
                try record(entry.statement, sqlState: state, entry, scratch,
                           note: "failed during migrating, before the first schema change, because the object did not exist yet (\(entry.message ?? state.rawValue)): a boot step that uses the app's tables before its migrations ran; move it into a Seeder, which runs after them")
            }
        }
    }

    private func record(_ statement: String?, sqlState: SQLState?, _ entry: ServerLogEntry, _ scratch: String, note: String) throws {
        let violation = LifecycleViolation(
            kind: .writeBeforeMigrations, phase: .migrating, database: scratch, statement: statement,
            sqlState: sqlState, sessionPID: entry.pid, applicationName: entry.applicationName,
            source: (migrations.migrator as? ClosureMigrator)?.site, note: note)
        if let failure = hookGuard.recorder.record(violation) { throw failure }
    }

    /// Publishes the scratch database under `name`. When `replacing` a template another run
    /// still holds, the old one is renamed aside first (runs clone by name, so they clone the
    /// new one from then on) and dropped.
    private func publish(_ scratch: String, as name: String, _ fingerprint: String, replacing: Bool, recycling: String, _ admin: AdminConnection) async throws {
        let leftover = try await admin.waitForNoSessions(on: scratch)
        if !leftover.isEmpty {
            logger.warning("sessions still connected to \(scratch) after migrations and seeding (closing them): \(leftover)")
            try await admin.terminateSessions(on: scratch)
            _ = try await admin.waitForNoSessions(on: scratch)
        }
        let baseline = recycling == "ok" ? await readBaseline(of: scratch, admin) : nil
        var aside: String?
        if replacing {
            let old = "\(prefix)_tplold_\(fingerprint.prefix(12))_\(runID)"
            try await Deadline.retry(for: .seconds(10), while: { ($0 as? PGError)?.sqlState == .objectInUse }) {
                try await admin.renameDatabase(name, to: old)   // 55006 while a clone is being made from it
            }
            aside = old
        }
        try await admin.renameDatabase(scratch, to: name)
        if let aside {
            do {
                try await admin.setTemplate(aside, false)
                try await Deadline.retry(for: .seconds(10), while: { ($0 as? PGError)?.sqlState == .objectInUse }) {
                    _ = try await admin.dropDatabase(aside)
                }
                logger.info("rebuilt template \(name) beside the one a live run held, and swapped it in")
            } catch {
                logger.warning("rebuilt template \(name); the one it replaced, \(aside), could not be dropped yet (pgtestkit reap collects it): \(error)")
            }
        }
        try await admin.setTemplate(name, true)
        var marker = OwnerMarker(kind: .template, run: runID, fingerprint: fingerprint, label: label)
        marker.recycling = recycling
        marker.baseline = baseline
        try await admin.writeMarker(marker, on: name)
    }

    /// Reads the finished template's ``TemplateBaseline`` on a connection of its own, with the
    /// database closed to new sessions and every other one terminated first — nothing can
    /// change it after (it is published closed) — and waits for that connection to be gone;
    /// `nil` when it cannot be read (pools then read it from a fresh clone).
    private func readBaseline(of scratch: String, _ admin: AdminConnection) async -> TemplateBaseline? {
        var parameters = serverParameters
        parameters["dbname"] = scratch
        do {
            let session = try await Connection.connect(
                to: ConnectionString.keywordForm(parameters), applicationName: "pgtestkit-build:\(runID)", logger: logger)
            let baseline: TemplateBaseline
            do {
                // An app's pool reconnecting after the leftovers were terminated could write
                // between this read and the publish, and the baseline would call a table with
                // rows empty: none can connect from here on, and none is left connected.
                try await admin.allowConnections(scratch, false)
                try await admin.terminateSessions(on: scratch, except: await session.backendPID)
                _ = try await admin.waitForNoSessions(on: scratch, ignoring: "pgtestkit-build:\(runID)")
                baseline = try await TemplateBaseline.read(on: session)
                // The build's activity counters would have autovacuum analyze the template
                // while its pools clone it (a stock server): clones that differ in their
                // statistics, and creates that wait for the worker. No session is left to
                // count more; a role that may not reset them leaves them.
                _ = try? await session.simpleQuery("SELECT pg_stat_reset() WHERE current_setting('is_superuser') = 'on'")
            } catch { await session.close(); throw error }
            await session.close()
            _ = try await admin.waitForNoSessions(on: scratch)
            return baseline
        } catch {
            logger.debug("the template's baseline could not be read when it was built (its pools read it from a fresh clone): \(error)")
            return nil
        }
    }

    /// `setval` of every sequence to its own value: nothing cached, so the next `nextval` logs.
    static let settleSequences = """
        DO $pgtk$ DECLARE s regclass; BEGIN
          FOR s IN SELECT c.oid::regclass FROM pg_class c WHERE c.relkind = 'S' AND c.relpersistence = 'p' LOOP
            EXECUTE format('SELECT setval(%L, last_value, is_called) FROM %s', s, s);
          END LOOP;
        END $pgtk$
        """

    /// Leaves the finished template so that the WAL can vouch for its clones (``CloneRecycler``),
    /// and says whether it can: `ok`, or why not.
    ///
    /// A sequence logs WAL once per 32 values, so a page cloned with values still cached takes
    /// its first `nextval` without a WAL record. `setval` to its own value leaves nothing
    /// cached: every clone's first `nextval` is logged. Unlogged relations are written
    /// without WAL at all: their clones are never recycled.
    private func readyForRecycling(_ session: Connection) async -> String {
        do {
            let unlogged = try await session.execute("""
                SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p', 'm', 'S') ORDER BY 1 LIMIT 5
                """).rows.compactMap { $0[0] }
            if !unlogged.isEmpty {
                return "it has unlogged relations (\(unlogged.joined(separator: ", "))), whose writes leave no WAL"
            }
            try await session.simpleQuery(Self.settleSequences)
            return "ok"
        } catch {
            logger.info("the template's clones will not be recycled: its sequences could not be left uncached (\(error))")
            return "its sequences could not be left uncached (\(error))"
        }
    }

    private func dropSuperseded(by name: String, _ admin: AdminConnection) async {
        guard let owned = try? await admin.ownedDatabases(prefix: prefix) else { return }
        for old in owned where old.name != name && old.marker.kind == .template && old.marker.label == label {
            guard (try? await admin.ownsDatabase(old.name)) == true else { continue }   // another role's family
            do {
                let dropped = try await admin.ifTemplateUnused(old.name) { try await admin.dropDatabase(old.name) }
                logger.info(dropped ? "dropped superseded template \(old.name)" : "kept superseded template \(old.name): a live run still uses it")
                guard dropped else { continue }
                // Its ready clones (the warm pool) go with it: nothing can adopt them now.
                for ready in owned where ready.marker.kind == .ready && ready.marker.template == old.name {
                    _ = try? await admin.dropDatabase(ready.name)
                }
            } catch {
                logger.debug("could not drop superseded template \(old.name) (in use?): \(error)")
            }
        }
    }
}
