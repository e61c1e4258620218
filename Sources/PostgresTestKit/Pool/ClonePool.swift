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

    /// A clone out with a test: the window it was handed out with, and the owner marker
    /// written then (the comment its verdict expects).
    private struct Lent: Sendable {
        let window: CloneRecycler.Window
        let comment: String
    }

    private let admin: AdminConnection
    private let template: String
    private let strategy: CloneStrategy?
    private let namePrefix: String
    /// The manager's database name prefix (its template's and ready clones' too).
    private let prefix: String
    private let serverParameters: [String: String]
    private let applicationName: String
    private let hookGuard: HookGuard
    private let logger: Logger
    /// The decisions: what is ready, being judged, the target (``ClonePoolStateMachine``).
    private var state: ClonePoolStateMachine<ReadyClone>
    /// The clones out with tests that can come back (they have a window).
    private var lent: [String: Lent] = [:]
    /// Acquires under way (a refill waits until a burst's are done).
    private var acquiring = 0
    /// Tests between their lease and their release (the burst the pool learns).
    private var holding = 0
    /// The most tests that held a clone at once in this process.
    private var peakHeld = 0
    /// The peak the ready clones this pool adopted carry (their run's).
    private var inheritedPeak = 0
    /// Set once ``adoptionSettled(fillLimit:)`` waited for the fill to the inherited peak.
    private var waitedForInheritedFill = false
    private var markerWrites: [String: Task<Void, Never>] = [:]
    private var counter = 0
    private var filler: Task<Void, Never>?
    /// Judges released clones for recycling (`nil` without a WAL witness).
    private var recycler: CloneRecycler?
    /// The witness being opened: the first fill waits for it, so every pooled clone has a window.
    private var opening: Task<CloneRecycler?, Never>?
    /// The verdicts under way, by the released clone's name (adopted clones being brought
    /// back included).
    private var judging: [String: Task<Void, Never>] = [:]
    /// The adopted clones being brought back.
    private var adoption: [Task<Void, Never>] = []
    /// What every clone of the template holds before its first test (from the template's
    /// marker, else read from the first fresh clone): what a reset restores.
    private var baseline: TemplateBaseline?
    /// The verdicts so far (tests read them).
    private(set) var verdicts: [RecycleVerdict] = []
    /// Whether ready clones are left at the process's exit and adopted at the start (the warm pool).
    private let warm: Bool
    /// The verdicts on the ready clones this pool tried to adopt (tests read them).
    private(set) var adoptions: [RecycleVerdict] = []

    /// A pool of clones of `template` aiming at `size` ready ones, growing with bursts up to
    /// `ceiling` (`PGTESTKIT_POOL_MAX`).
    init(admin: AdminConnection, template: String, strategy: CloneStrategy?, size: Int, ceiling: Int, prefix: String, namePrefix: String,
         serverParameters: [String: String], applicationName: String, hookGuard: HookGuard,
         recycler: Task<CloneRecycler?, Never>? = nil, baseline: TemplateBaseline? = nil, warm: Bool = false,
         adoptMaxWAL: UInt64 = 256 << 20, logger: Logger) {
        self.opening = recycler
        self.baseline = baseline
        self.warm = warm
        self.adoptMaxWAL = adoptMaxWAL
        self.admin = admin
        self.template = template
        self.strategy = strategy
        self.state = ClonePoolStateMachine(target: size, ceiling: ceiling)
        self.namePrefix = namePrefix
        self.prefix = prefix
        self.serverParameters = serverParameters
        self.applicationName = applicationName
        self.hookGuard = hookGuard
        self.logger = logger
    }

    /// Starts filling the pool: adopts the ready clones earlier processes left of this
    /// template first (returning once they are adopted, so that a burst of tests pops them),
    /// then makes the rest in the background.
    func start() async {
        guard filler == nil, state.startFill() else { return }
        await adopt()
        filler = Task { await self.fill() }
    }

    /// Leases a ready clone for a test whose owner marker is `marker` (its uses counted here,
    /// written in the background); when none is ready but a released clone is being judged,
    /// waits for the oldest verdict first (a few milliseconds, against a `CREATE DATABASE`'s
    /// tens). `nil`: a miss, the caller makes one (asking ``retake(marker:)`` once it has a
    /// lane) and reports it with ``acquired(_:comment:)``; a pop's lease ends here (a
    /// retaken one's in ``retake(marker:)``).
    func lease(marker: OwnerMarker) async -> ReadyClone? {
        acquiring += 1
        // The most tests holding a clone at once (from their lease to their release), hits
        // included, is what the pool aims at: a pool that learned only from its misses stayed
        // below the burst it served from adopted clones, dropped the clones that came back
        // past its target as surplus, and left the next process too few for the same burst.
        // The growth makes nothing now; it keeps what comes back, and the exit leaves it.
        holding += 1
        if holding > peakHeld {
            peakHeld = holding
            if state.learn(burst: holding) { logger.debug("clone pool grows to \(state.target): \(holding) tests hold a clone at once") }
            targetGrew()
        }
        var clone: ReadyClone?
        leasing: while true {
            switch state.lease() {
            case .handOut(let ready):
                // Once the process is exiting, its exit may be leaving this clone for another.
                guard ExitCleanup.shared.lease(ready.name) else { break leasing }
                clone = ready
                break leasing
            case .awaitVerdict(let name):
                // No growth for this: a verdict (a reset included) takes a few milliseconds,
                // and a fresh clone made beside it competes with it for the server.
                await judging[name]?.value
            case .miss:
                break leasing
            }
        }
        guard let clone else { return nil }
        return handOut(clone, marker: marker)
    }

    /// A miss that waited for a lane to make its clone asks once more, without waiting: a
    /// clone that came back meanwhile (a burst's first tests are done before its last creates
    /// start) is handed out instead of a create, and the miss's lease ends.
    func retake(marker: OwnerMarker) -> ReadyClone? {
        guard case .handOut(let ready) = state.lease() else { return nil }
        guard ExitCleanup.shared.lease(ready.name) else { return nil }
        return handOut(ready, marker: marker)
    }

    /// Ends a pop's lease: `clone` is the test's, with `marker` written on it.
    private func handOut(_ clone: ReadyClone, marker: OwnerMarker) -> ReadyClone {
        acquiring -= 1   // a pop's lease ends here: it has nothing more to wait for
        var marker = marker
        if let window = clone.window {
            marker.uses = window.uses + 1
            lent[clone.name] = Lent(window: window, comment: marker.comment)
            state.lent(clone.name)
        }
        writeMarker(clone.name, with: marker)
        return clone
    }

    /// Ends a miss's lease: the clone `name`, made on demand with the owner marker `comment`,
    /// is the test's now. It gets a WAL window, so that it too can come back. Called only for
    /// a clone the miss created: a pop's lease ends in ``lease(marker:)`` or ``retake(marker:)``.
    func acquired(_ name: String, comment: String) async {
        defer { acquiring -= 1 }
        if let recycler, !state.closed {
            do {
                lent[name] = Lent(window: try await recycler.openWindow(on: name, uses: 0), comment: comment)
                state.lent(name)
            }
            catch { logger.debug("no recycling window for \(name): \(error)") }
        }
        // Refilling in the middle of a burst only competes with its own creates.
        if acquiring <= 1 { refill() }
    }

    /// A clone that will not come back (its acquire failed, and it is dropped): the pool
    /// forgets it; `endingLease` when that acquire's lease has not ended yet.
    func abandoned(_ name: String, endingLease: Bool = false) {
        holding = max(0, holding - 1)   // a release into a pool made after a recovery held nothing here
        lent[name] = nil
        state.lendingEnded(name)
        if endingLease { acquiring -= 1 }
    }

    /// Whether the clone `name`, out with a test, can come back (it has a WAL window).
    func canComeBack(_ name: String) -> Bool { lent[name] != nil }

    /// A test gave back the clone `name`: judged off the test's path — renamed (which fails
    /// while any session is connected, and leaves a stray client no name to reconnect with),
    /// read from the WAL, reset if only rows changed, reconnected, its hooks run and put first
    /// in line — when `recyclable` (no leaked session, no finding) and it has a window; else,
    /// or when the verdict is against it, it goes to `dropper`. Returns at once.
    func giveBack(_ name: String, recyclable: Bool, dropper: BackgroundDropper, phases: PhaseLog?) async {
        holding = max(0, holding - 1)   // a release into a pool made after a recovery held nothing here
        let lent = self.lent.removeValue(forKey: name)
        state.lendingEnded(name)
        let recycler = self.recycler
        if let lent, let recycler, state.released(name, recyclable: recyclable) == .judge {
            judging[name] = Task {
                let started = ContinuousClock.now
                let startedDate = Date()
                var (verdict, clone) = await ExitCleanup.shared.judging { await self.judge(name, lent.window, lent.comment, recycler) }
                verdict.duration = ContinuousClock.now - started
                var dropped = clone == nil
                switch self.state.judged(name, clone) {
                case .discard(let surplus):
                    await surplus.connection.close()
                    verdict = .init(database: surplus.name, recycledAs: nil, reason: "the pool is full")
                    dropped = true
                case .keep:
                    if let clone { self.mayLeave(clone) }
                }
                let outcome: TimelineRow.Outcome = dropped ? .dropped : verdict.reset == nil ? .recycled : .reset
                let (row, span, reason) = (phases?.timelineRow, TimelineSpan(.verdict, from: startedDate, to: Date()), verdict.reason)
                RunReport.shared.update {
                    if !dropped { verdict.reset == nil ? ($0.databasesRecycled += 1) : ($0.databasesReset += 1) }
                    $0.timeline.add(span, to: row)
                    $0.timeline.update(row) { $0.outcome = outcome; $0.note = reason }
                }
                if dropped { await dropper.enqueue(verdict.database, phases: phases) } else { try? phases?.enter(.recycled) }
                self.verdicts.append(verdict)
                self.judging[name] = nil
                self.refill()   // a dropped clone's place is made anew (a refill waits for verdicts)
            }
        } else {
            await dropper.enqueue(name, phases: phases)
        }
        // Refill once the test is done: the CREATE DATABASE then overlaps the gap before the
        // next test, not this test's release or the next one's acquire — nor a burst's creates.
        if acquiring == 0 { refill() }
    }

    /// How many clones are ready now.
    var count: Int { state.ready.count }

    /// Writes the test's owner marker on a clone taken from the pool (off the critical path).
    private func writeMarker(_ name: String, with marker: OwnerMarker) {
        // Off the pool's own connection when a recycler's is there: that one may be busy with a
        // `CREATE DATABASE`, and a verdict waits for this marker.
        markerWrites[name] = Task { [admin, recycler, logger] in
            let writer = await recycler?.admin ?? admin
            do { try await writer.writeMarker(marker, on: name) }
            catch { logger.debug("could not write the marker of \(name): \(error)") }
        }
    }

    /// Waits for the marker write of a taken clone (before the marker is written again).
    func awaitMarkerWrite(of name: String) async {
        await markerWrites.removeValue(forKey: name)?.value
    }

    private func refill() {
        guard filler == nil, state.startFill() else { return }
        filler = Task { await self.fill() }
    }

    private func fill() async {
        if let opening {
            recycler = await opening.value
            self.opening = nil
            if state.closed { recycler = nil }
        }
        while state.nextCreate() {
            counter += 1
            let name = "\(namePrefix)\(counter)"
            var created = false
            let started = Date()
            var createdAt = started
            do {
                // The login is inside `creating` too: an exit waits for it, so that no login
                // is under way while the process's exit handlers tear libcrypto down.
                let recycler = self.recycler
                let (opened, window) = try await ExitCleanup.shared.creating(name, server: serverParameters) {
                    try await admin.createDatabase(name, template: template, strategy: strategy, marker: OwnerMarker(kind: .clone, run: admin.runID))
                    created = true
                    createdAt = Date()
                    // The window opens before any session reaches the clone.
                    var window: CloneRecycler.Window?
                    do { window = try await recycler?.openWindow(on: name, uses: 0) }
                    catch { logger.debug("no recycling window for \(name): \(error)") }
                    // A failed login does not fail the create: the database exists, and stays
                    // registered with the exit until the catch below drops it (a process
                    // exiting meanwhile, its connection slots full, left it behind).
                    do { return (Result<Connection, any Error>.success(try await connect(to: name)), window) }
                    catch { return (.failure(error), window) }
                }
                let connection = try opened.get()
                let connected = Date()
                await readBaseline(on: connection)   // before any hook: the clone is as its template
                _ = try await hookGuard.runOrClose(connection, database: name)
                let spans = [TimelineSpan(.create, from: started, to: createdAt), TimelineSpan(.connect, from: createdAt, to: connected),
                             TimelineSpan(.hooks, from: connected, to: Date())]
                RunReport.shared.update { $0.timeline.madeAhead(name, spans) }
                let clone = ReadyClone(name: name, connection: connection, window: window)
                if case .discard = state.created(clone) {
                    await clone.connection.close()
                    _ = try? await admin.dropDatabase(name)
                    break
                }
                mayLeave(clone)
            } catch {
                state.createFailed()
                // A refill racing the process's exit is expected, not a failure worth a warning.
                logger.log(level: ExitCleanup.shared.isExiting || state.closed ? .debug : .warning,
                           "the clone pool could not prepare \(name); acquires will create clones directly: \(error)")
                if created {   // only what this pool created; never a same-named database
                    _ = try? await admin.dropDatabase(name)
                }
                break
            }
        }
        filler = nil
    }

    /// The verdict on a released clone, and the clone ready again when it came back.
    private func judge(
        _ name: String, _ window: CloneRecycler.Window, _ expectedComment: String?, _ recycler: CloneRecycler
    ) async -> (RecycleVerdict, ReadyClone?) {
        var laps = StepLaps()
        defer { logger.debug("verdict on \(name) in \(laps)") }
        await awaitMarkerWrite(of: name)   // the test's marker is the comment expected
        laps.record("marker")
        counter += 1
        let renamed = "\(namePrefix)\(counter)"
        do {
            // The test's own toolkit session was closed at release, and its backend may still
            // be exiting: a rename that meets it waits 100 ms (the server's CountOtherDBBackends).
            _ = try await recycler.admin.waitForNoSessions(on: name, timeout: .milliseconds(500), every: .milliseconds(1))
            laps.record("sessions gone")
            try await recycler.admin.renameDatabase(name, to: renamed)   // its exit registration moves with it
            laps.record("rename")
        } catch {
            await recycler.noteFailure(error)
            return (.init(database: name, recycledAs: nil, reason: "it could not be renamed (\(error))"), nil)
        }
        // The clone's next session is opened while the WAL is read: the connect (a TCP and
        // SCRAM handshake on a stock server, 10 ms and more) overlaps the read, and is closed
        // unused when the verdict is against the clone.
        let nextConnection = Task { try await self.connect(to: renamed) }
        let judged = await recycler.judge(renamed, window, expectedComment: expectedComment)
        laps.record("WAL")
        switch judged {
        case .failure(let reason):
            if let unused = try? await nextConnection.value { await unused.close() }
            return (.init(database: renamed, recycledAs: nil, reason: reason.text), nil)
        case .success(let judgement):
            defer { laps.record(judgement.reset.isEmpty ? "bringing back" : "reset and bringing back") }
            return await bringBack(name, as: renamed, next: judgement.next, resetting: judgement.reset, connecting: nextConnection)
        }
    }

    /// A judged clone, renamed, back for another test: a new toolkit session, its spare
    /// marker (a marker without a test, counting its uses, written on that session — the
    /// witness's admin serves every verdict — without waiting for its WAL flush), a reset of
    /// `files` when rows changed (in the same transaction; the next window opens after it),
    /// and its connect hooks.
    private func bringBack(
        _ name: String, as renamed: String, next: CloneRecycler.Window, resetting files: Set<ResetRule.RelationFile>,
        connecting: Task<Connection, any Error>? = nil
    ) async -> (RecycleVerdict, ReadyClone?) {
        var next = next
        do {
            let connection: Connection
            if let connecting { connection = try await connecting.value } else { connection = try await connect(to: renamed) }
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
            if files.isEmpty {
                do { _ = try await connection.simpleQuery("BEGIN; SET LOCAL synchronous_commit = off; \(spare) COMMIT") } catch {
                    await connection.close()
                    throw error
                }
            } else {   // rows changed: reset them, before any hook runs
                switch await self.reset(files, alongside: spare, on: connection) {
                case .failure(let refusal):
                    await connection.close()
                    return (.init(database: renamed, recycledAs: nil, reason: "it could not be reset: \(refusal.reason)"), nil)
                case .success(let outcome):
                    reset = outcome.plan
                    next = CloneRecycler.Window(start: outcome.lsn, state: next.state, uses: next.uses)
                }
            }
            // Its hooks run ahead of its next test, as a made-ahead clone's: the pool's row
            // until a test pops it, where a hook's finding on it is drawn.
            let hooksStarted = Date()
            defer { RunReport.shared.update { $0.timeline.madeAhead(renamed, [TimelineSpan(.hooks, from: hooksStarted, to: Date())]) } }
            _ = try await hookGuard.runOrClose(connection, database: renamed)
            return (.init(database: name, recycledAs: renamed, reason: nil, reset: reset),
                    ReadyClone(name: renamed, connection: connection, window: next))
        } catch {
            return (.init(database: renamed, recycledAs: nil, reason: "it could not be reconnected (\(error))"), nil)
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

    /// Lets the exit leave `clone` for the next process (the warm pool) while it is ready:
    /// its marker records the WAL position from which it is unchanged.
    private func mayLeave(_ clone: ReadyClone) {
        guard warm, let window = clone.window else { return }
        var marker = OwnerMarker(kind: .ready, run: admin.runID)
        marker.template = template
        marker.readyName = clone.name
        marker.readyLSN = window.start.description
        marker.readyOID = window.state.oid
        marker.readyState = window.state.catalogs
        marker.uses = window.uses
        // A process that ran tests in parallel records its own peak (a smaller burst, a
        // filtered run, lowers it: one large run does not hold clones ready for ever); a
        // serial one (an XCTest process beside a Swift Testing one) passes on the peak it
        // inherited, which says more about the next parallel process than its own one.
        marker.peak = peakHeld > 1 ? peakHeld : max(inheritedPeak, peakHeld, 1)
        ExitCleanup.shared.mayLeave(clone.name, as: marker)
    }

    /// The peak grew: the ready clones' markers for the exit carry the new one (read when a
    /// clone becomes leavable).
    private func targetGrew() {
        for clone in state.ready { mayLeave(clone) }
    }

    /// The most WAL (bytes) a ready clone's proof may need read: past that it is dropped, not
    /// adopted (the read would cost more than a new clone).
    private let adoptMaxWAL: UInt64

    /// Adopts the ready clones of this template that earlier processes left (up to the
    /// target, which grows to their run's peak): each is claimed by a rename (which fails
    /// while a session is connected, and which only one process can win), then all are proven
    /// unchanged since they were left by one WAL read, reconnected and their hooks run. A ready clone renamed since it was left, or with a session connected, is
    /// left alone; one the WAL cannot vouch for is dropped. The debug log says why.
    private func adopt() async {
        guard warm else { return }
        var laps = StepLaps()
        let candidates: [OwnedDatabase]
        do {
            candidates = try await admin.ownedDatabases(prefix: prefix).filter { $0.marker.kind == .ready && $0.marker.template == template }
        } catch {
            logger.debug("could not look for ready clones of \(template): \(error)")
            return
        }
        guard !candidates.isEmpty else { return }
        laps.record("listing")
        if let opening {
            recycler = await opening.value
            self.opening = nil
        }
        laps.record("witness")
        guard let recycler else {
            logger.debug("the \(candidates.count) ready clone(s) of \(template) are not adopted: the WAL cannot vouch for them here")
            return
        }
        if let peak = candidates.compactMap(\.marker.peak).max() {
            inheritedPeak = peak
            if state.learn(burst: peak) { logger.debug("clone pool aims at \(state.target), the peak of the run that left the ready clones") }
            targetGrew()
        }
        let now = try? await recycler.admin.query("SELECT pg_current_wal_insert_lsn()::text").rows.first?[0].flatMap(WalLSN.init)
        // Claimed first (each by a rename, the fence: in one round trip for them all), then
        // proven together by one WAL read.
        var wanted: [(candidate: OwnedDatabase, renamed: String, lsn: WalLSN, oid: UInt32, catalogs: String)] = []
        for candidate in candidates where state.target > state.ready.count + wanted.count {
            let marker = candidate.marker
            guard candidate.name == marker.readyName, let lsn = marker.readyLSN.flatMap(WalLSN.init),
                  let oid = marker.readyOID, let catalogs = marker.readyState else {
                logger.debug("not adopting \(candidate.name): renamed since it was left, or its marker is incomplete")
                continue
            }
            if let now, now.value > lsn.value, now.value - lsn.value > adoptMaxWAL {
                logger.debug("not adopting \(candidate.name): \((now.value - lsn.value) >> 20) MB of WAL since it was left")
                _ = try? await admin.dropDatabase(candidate.name)
                continue
            }
            counter += 1
            wanted.append((candidate, "\(namePrefix)\(counter)", lsn, oid, catalogs))
        }
        // The leaving process's own sessions may still be closing (it just exited): they get a
        // moment; a clone a session stays on is someone's, and is left alone, as is one another
        // process claimed first.
        let won = await recycler.admin.claim(wanted.map { ($0.candidate.name, $0.renamed) })
        var claimed: [(name: String, renamed: String, window: CloneRecycler.Window, comment: String)] = []
        for claim in wanted {
            guard won.contains(claim.renamed) else {
                logger.debug("not adopting \(claim.candidate.name): a session is connected, or another process claimed it")
                continue
            }
            let marker = claim.candidate.marker
            let window = CloneRecycler.Window(
                start: claim.lsn, state: SharedDatabaseState(oid: claim.oid, catalogs: claim.catalogs, comment: marker.comment, lingering: 0, lsn: claim.lsn),
                uses: marker.uses ?? 0)
            claimed.append((claim.candidate.name, claim.renamed, window, marker.comment))
        }
        laps.record("claims")
        // Each claimed clone's next session opens while the WAL is read (no one else can
        // reach a claimed clone, and a login writes nothing); closed unused when the proof
        // is against it.
        var connecting: [String: Task<Connection, any Error>] = [:]
        for clone in claimed { connecting[clone.renamed] = Task { try await self.connect(to: clone.renamed) } }
        let proofs = await recycler.judgeAll(claimed.map { ($0.renamed, $0.window, $0.comment) })
        laps.record("WAL proof")
        logger.debug("adoption of \(claimed.count) of \(candidates.count) ready clone(s) of \(template) proven in \(laps)")
        // Each proven clone is brought back on its own (connected, its hooks run), all at
        // once; a lease meanwhile waits for the oldest, as for a verdict.
        for clone in claimed {
            guard case .success(let next)? = proofs[clone.renamed], state.adopting(clone.renamed) else {
                let reason = if case .failure(let reason)? = proofs[clone.renamed] { reason.text }
                    else if state.closed { "the pool closed" } else { "no verdict" }
                if let unused = try? await connecting[clone.renamed]?.value { await unused.close() }
                await notAdopted(clone.name, as: clone.renamed, RecycleVerdict(database: clone.renamed, recycledAs: nil, reason: reason))
                continue
            }
            let opening = connecting[clone.renamed]
            let bringing = Task {
                // An exit meanwhile waits for it a moment, as for a verdict, and can leave it ready.
                let (verdict, ready) = await ExitCleanup.shared.judging {
                    await self.bringBack(clone.name, as: clone.renamed, next: next, resetting: [], connecting: opening)
                }
                await self.adopted(clone.name, as: clone.renamed, verdict, ready)
            }
            judging[clone.renamed] = bringing
            adoption.append(bringing)
        }
    }

    /// Waits until every clone adopted at the start is back in the pool (or dropped): an
    /// explicit ``TestDatabaseManager/prepare()`` returns with them ready. When the run that
    /// left them held more clones at once than it left (its burst's last tests took clones
    /// that came back), the fill makes the rest first, for up to `fillLimit`: the same burst
    /// in this process then pops them all.
    func adoptionSettled(fillLimit: Duration = .seconds(2)) async {
        for bringing in adoption { await bringing.value }   // not removed: another caller may wait too
        guard inheritedPeak > 0, !waitedForInheritedFill else { return }
        waitedForInheritedFill = true   // once: a later prepare() does not wait for a refill
        let deadline = ContinuousClock.now + fillLimit
        while filler != nil, !state.closed, state.ready.count < state.target, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// An adopted clone is back (`ready`), or could not be brought back.
    private func adopted(_ name: String, as renamed: String, _ verdict: RecycleVerdict, _ ready: ReadyClone?) async {
        defer { judging[renamed] = nil }
        guard let ready else {
            _ = state.judged(renamed, nil)
            await notAdopted(name, as: renamed, verdict)
            refill()
            return
        }
        if case .discard = state.judged(renamed, ready) {
            await ready.connection.close()
            await notAdopted(name, as: renamed, RecycleVerdict(database: renamed, recycledAs: nil, reason: "the pool is full or closed"))
            return
        }
        adoptions.append(verdict)
        mayLeave(ready)
        RunReport.shared.update { $0.databasesAdopted += 1 }
        logger.debug("adopted \(name) as \(ready.name)")
    }

    /// A claimed ready clone that is not adopted: its verdict recorded, and dropped (claimed,
    /// it is ours to drop).
    private func notAdopted(_ name: String, as renamed: String, _ verdict: RecycleVerdict) async {
        adoptions.append(verdict)
        logger.debug("not adopting \(name): \(verdict.reason ?? "?")")
        _ = try? await admin.dropDatabase(renamed)
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
        let clones = state.close()   // taken before any await: leases now miss
        if let opening { _ = await opening.value; self.opening = nil }
        for verdict in judging.values { await verdict.value }   // their clones are discarded
        judging.removeAll()
        await filler?.value   // a clone it made meanwhile is discarded
        for clone in clones {
            await clone.connection.close()
            _ = try? await admin.dropDatabase(clone.name)
        }
        for write in markerWrites.values { await write.value }
        markerWrites.removeAll()
        recycler = nil   // the process's recycler: its witness serves other pools, until the exit
        await admin.close()
    }
}
