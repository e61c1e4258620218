import Foundation
import Logging

/// Ready-made clones of one template, created and connected ahead in the background on their
/// own admin connection, so that acquiring from a warm pool is a pop: the clone exists, its
/// toolkit connection is open and its connect hooks have run.
///
/// Pooled clones keep their pool name (`<prefix>_<run>_p<n>`): a database cannot be renamed
/// while a connection is open to it. The test's name goes into the owner marker instead,
/// written in the background.
actor ClonePool {
    /// A clone with its open, hook-initialised toolkit connection.
    struct ReadyClone: Sendable {
        let name: String
        let connection: Connection
        /// Its WAL window, when the pool has a recycler: only such clones can be recycled.
        let window: CloneRecycler.Window?
    }

    private let admin: AdminConnection
    private let template: String
    private let strategy: CloneStrategy?
    private var target: Int
    /// The most clones a learned burst grows the pool to (`PGTESTKIT_POOL_MAX`, default 8).
    private let ceiling: Int
    private let namePrefix: String
    private let serverParameters: [String: String]
    private let applicationName: String
    private let hookGuard: HookGuard
    private let logger: Logger
    private var ready: [ReadyClone] = []
    private var annotations: [String: Task<Void, Never>] = [:]
    private var counter = 0
    private var filler: Task<Void, Never>?
    private var closed = false
    /// Judges released clones for recycling (`nil` without a WAL witness).
    private var recycler: CloneRecycler?
    /// The witness being opened: the first fill waits for it, so every pooled clone has a window.
    private var opening: Task<CloneRecycler?, Never>?
    /// Released clones being judged now: a refill counts them as on their way back.
    private var judging: [String: Task<Void, Never>] = [:]
    /// The names in `judging`, oldest first.
    private var judgingOrder: [String] = []
    /// What every clone of the template holds before its first test (read from the first
    /// fresh clone): what a reset restores.
    private var baseline: TemplateBaseline?
    /// The verdicts so far (tests read them).
    private(set) var verdicts: [RecycleVerdict] = []

    init(admin: AdminConnection, template: String, strategy: CloneStrategy?, size: Int, namePrefix: String,
         serverParameters: [String: String], applicationName: String, hookGuard: HookGuard,
         recycler: Task<CloneRecycler?, Never>? = nil, logger: Logger) {
        self.opening = recycler
        self.admin = admin
        self.template = template
        self.strategy = strategy
        self.target = size
        self.ceiling = max(size, ProcessInfo.processInfo.environment["PGTESTKIT_POOL_MAX"].flatMap(Int.init) ?? 8)
        self.namePrefix = namePrefix
        self.serverParameters = serverParameters
        self.applicationName = applicationName
        self.hookGuard = hookGuard
        self.logger = logger
    }

    /// Starts filling the pool.
    func start() { refill() }

    /// Takes a ready clone, if one is there. The replacement is made when the test releases
    /// its database (``replenish()``), so that a `CREATE DATABASE` competes with neither the
    /// test's acquire nor its release.
    func take() -> ReadyClone? {
        guard !closed, !ready.isEmpty else { return nil }
        return ready.removeFirst()
    }

    /// Takes a ready clone; when none is ready but a released clone is being judged, waits
    /// for the oldest verdict first (a few milliseconds, against a `CREATE DATABASE`'s tens).
    func takeOrAwaitVerdict() async -> ReadyClone? {
        if let clone = take() { return clone }
        guard let oldest = judgingOrder.first, let verdict = judging[oldest] else { return nil }
        // No growth for this: a verdict (a reset included) takes a few milliseconds, and a
        // fresh clone made beside it competes with it for the server.
        await verdict.value
        return take()
    }

    /// Opens a WAL window on a clone made outside the pool (an acquire that missed it), so
    /// that it too can be recycled; `nil` without a recycler.
    func openWindow(on name: String) async -> CloneRecycler.Window? {
        guard let recycler, !closed else { return nil }
        do { return try await recycler.openWindow(on: name, uses: 0) }
        catch {
            logger.debug("no recycling window for \(name): \(error)")
            return nil
        }
    }

    /// Starts making clones until the pool is full again; returns at once.
    func replenish() { refill() }

    /// Learns from a miss: `burst` acquires were in flight at once, so keep that many ready
    /// (up to the ceiling) for the next burst; refills from now on aim there.
    func learn(burst: Int, because reason: String? = nil) {
        let grown = min(ceiling, max(target, burst))
        guard grown > target else { return }
        logger.debug("clone pool grows from \(target) to \(grown): \(reason ?? "\(burst) acquires came at once")")
        target = grown
    }

    /// How many clones are ready now.
    var count: Int { ready.count }

    /// Writes the test's owner marker on a clone taken from the pool (off the critical path).
    func annotate(_ name: String, with marker: OwnerMarker) {
        // Off the pool's own connection when a recycler's is there: that one may be busy with a
        // `CREATE DATABASE`, and a verdict waits for this marker.
        annotations[name] = Task { [admin, recycler, logger] in
            let writer = await recycler?.admin ?? admin
            do { try await writer.writeMarker(marker, on: name) }
            catch { logger.debug("could not write the marker of \(name): \(error)") }
        }
    }

    /// Waits for the marker write of a taken clone (before the marker is written again).
    func awaitAnnotation(of name: String) async {
        await annotations.removeValue(forKey: name)?.value
    }

    private func refill() {
        guard filler == nil, !closed, ready.count + judging.count < target else { return }
        filler = Task { await self.fill() }
    }

    private func fill() async {
        if let opening {
            recycler = await opening.value
            self.opening = nil
            if closed { recycler = nil }
        }
        while !closed && ready.count + judging.count < target {
            counter += 1
            let name = "\(namePrefix)\(counter)"
            var created = false
            do {
                // The login is inside `creating` too: an exit waits for it, so that no login
                // is under way while the process's exit handlers tear libcrypto down.
                let recycler = self.recycler
                let (connection, window) = try await ExitCleanup.shared.creating(name, server: serverParameters) {
                    try await admin.createDatabase(name, template: template, strategy: strategy, marker: OwnerMarker(kind: .clone, run: admin.runID))
                    created = true
                    // The window opens before any session reaches the clone.
                    var window: CloneRecycler.Window?
                    do { window = try await recycler?.openWindow(on: name, uses: 0) }
                    catch { logger.debug("no recycling window for \(name): \(error)") }
                    return (try await connect(to: name), window)
                }
                await readBaseline(on: connection)   // before any hook: the clone is as its template
                _ = try await hookGuard.runOrClose(connection, database: name)
                if closed {
                    await connection.close()
                    _ = try? await admin.dropDatabase(name)
                    break
                }
                ready.append(ReadyClone(name: name, connection: connection, window: window))
            } catch {
                // A refill racing the process's exit is expected, not a failure worth a warning.
                logger.log(level: ExitCleanup.shared.isExiting || closed ? .debug : .warning,
                           "the clone pool could not prepare \(name); acquires will create clones directly: \(error)")
                if created {   // only what this pool created; never a same-named database
                    _ = try? await admin.dropDatabase(name)
                }
                break
            }
        }
        filler = nil
    }

    /// Takes a released clone back when its window shows no change, in the background: it
    /// is renamed (which fails while any session is connected, and leaves a stray client no
    /// name to reconnect with), judged, reconnected and its hooks run, then put first in line;
    /// else it goes to `dropper`. Returns at once.
    func recycle(_ name: String, window: CloneRecycler.Window, expectedComment: String?, dropper: BackgroundDropper, phases: PhaseLog?) {
        guard let recycler, !closed, judging[name] == nil else {
            Task { await dropper.enqueue(name, phases: phases) }
            return
        }
        judgingOrder.append(name)
        judging[name] = Task {
            let started = ContinuousClock.now
            var verdict = await self.judge(name, window, expectedComment, recycler)
            verdict.duration = ContinuousClock.now - started
            if verdict.recycledAs == nil { await dropper.enqueue(verdict.database, phases: phases) }
            self.verdicts.append(verdict)
            self.judging[name] = nil
            self.judgingOrder.removeAll { $0 == name }
            self.refill()   // a dropped clone's place is made anew (a refill waits for verdicts)
        }
    }

    private func judge(_ name: String, _ window: CloneRecycler.Window, _ expectedComment: String?, _ recycler: CloneRecycler) async -> RecycleVerdict {
        await awaitAnnotation(of: name)   // the test's marker is the comment expected
        counter += 1
        let renamed = "\(namePrefix)\(counter)"
        do {
            // The test's own toolkit session was closed at release, and its backend may still
            // be exiting: a rename that meets it waits 100 ms (the server's CountOtherDBBackends).
            _ = try await recycler.admin.waitForNoSessions(on: name, timeout: .milliseconds(500), every: .milliseconds(1))
            try await recycler.admin.renameDatabase(name, to: renamed)   // its exit registration moves with it
        } catch {
            await recycler.noteFailure(error)
            return .init(database: name, recycledAs: nil, reason: "it could not be renamed (\(error))")
        }
        switch await recycler.judge(renamed, window, expectedComment: expectedComment) {
        case .failure(let reason):
            return .init(database: renamed, recycledAs: nil, reason: reason.text)
        case .success(let judgement):
            var next = judgement.next
            do {
                let connection = try await connect(to: renamed)
                // A spare again: a marker without a test, counting its uses, written on the
                // clone's own new session (the witness's admin serves every verdict) without
                // waiting for its WAL flush — in the reset's transaction when there is one.
                var marker = OwnerMarker(kind: .clone, run: admin.runID)
                marker.uses = next.uses
                let spare: String
                do {
                    spare = "COMMENT ON DATABASE \(try await connection.quoteIdentifier(renamed)) IS \(try await connection.quoteLiteral(marker.comment));"
                } catch {
                    await connection.close()
                    throw error
                }
                var reset: ResetPlan?
                if judgement.reset.isEmpty {
                    do { _ = try await connection.simpleQuery("BEGIN; SET LOCAL synchronous_commit = off; \(spare) COMMIT") } catch {
                        await connection.close()
                        throw error
                    }
                } else {   // rows changed: reset them, before any hook runs
                    switch await self.reset(judgement.reset, alongside: spare, on: connection) {
                    case .failure(let refusal):
                        await connection.close()
                        return .init(database: renamed, recycledAs: nil, reason: "it could not be reset: \(refusal.reason)")
                    case .success(let outcome):
                        reset = outcome.plan
                        // The next window opens after the reset's own records.
                        next = CloneRecycler.Window(start: outcome.lsn, state: next.state, uses: next.uses)
                    }
                }
                _ = try await hookGuard.runOrClose(connection, database: renamed)
                // Never more ready clones (each an open connection) than the pool's target.
                guard !closed, ready.count < target else {
                    await connection.close()
                    return .init(database: renamed, recycledAs: nil, reason: "the pool is full")
                }
                ready.insert(ReadyClone(name: renamed, connection: connection, window: next), at: 0)
                RunReport.shared.update { reset == nil ? ($0.databasesRecycled += 1) : ($0.databasesReset += 1) }
                return .init(database: name, recycledAs: renamed, reason: nil, reset: reset)
            } catch {
                return .init(database: renamed, recycledAs: nil, reason: "it could not be reconnected (\(error))")
            }
        }
    }

    /// Resets the rows of `files` on a clone's connection (``CloneReset``), or says why not.
    private func reset(_ files: Set<ResetRule.RelationFile>, alongside: String, on connection: Connection) async -> Result<CloneReset.Outcome, ResetPlan.Refusal> {
        guard let baseline else { return .failure(.init("the template's baseline was not read (no fresh clone was made yet)")) }
        do {
            return try await CloneReset.run(files, baseline: baseline, alongside: alongside, on: connection)
        } catch {
            return .failure(.init("\(error)"))
        }
    }

    /// Reads the template's baseline on a fresh clone's connection, once per pool.
    private func readBaseline(on connection: Connection) async {
        guard baseline == nil, recycler != nil else { return }
        do { baseline = try await TemplateBaseline.read(on: connection) }
        catch { logger.debug("could not read the template's baseline (written clones are dropped, not reset): \(error)") }
    }

    /// Whether released clones can be recycled (the WAL witness is open).
    var recycles: Bool { recycler != nil }

    /// Waits until every released clone has its verdict.
    func settle() async {
        while let next = judging.values.first { await next.value }
    }

    private func connect(to name: String) async throws -> Connection {
        try await Connection.connect(to: .keywordForm(serverParameters, database: name), applicationName: applicationName, logger: logger)
    }

    /// Drops every pooled clone and closes the pool's connections.
    func close() async {
        closed = true
        if let opening { _ = await opening.value; self.opening = nil }
        for verdict in judging.values { await verdict.value }
        judging.removeAll()
        let clones = ready      // taken before any await: take() now returns nil
        ready.removeAll()
        await filler?.value
        let stragglers = ready  // made by a fill that was under way
        ready.removeAll()
        for clone in clones + stragglers {
            await clone.connection.close()
            _ = try? await admin.dropDatabase(clone.name)
        }
        for annotation in annotations.values { await annotation.value }
        annotations.removeAll()
        recycler = nil   // the process's recycler: its witness serves other pools, until the exit
        await admin.close()
    }
}
