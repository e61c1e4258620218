import Foundation
import Logging
import Synchronization

/// Judges a released clone clean or changed from the WAL, so that a clean one goes back to
/// the pool instead of paying a `DROP DATABASE` and a `CREATE DATABASE`.
///
/// The same ``WalWitness`` as the premature-write audit (`pgtestkit audit`): one WAL reader,
/// two uses. A clone's window opens when it is made (before its connect hooks) or when it
/// was last judged clean, and closes at its next release, after the leak check found no
/// session and the clone was renamed (which fails while any session is connected, and
/// leaves no client a name to reconnect with). The clone is clean when, in that window:
///
/// - no WAL record that ``WalRecord/altersDatabase`` names its database OID (rows, index
///   entries, sequences, relation files, catalog rows — so DDL, `CREATE TEMP TABLE`,
///   `CREATE EXTENSION`, large objects, `ANALYZE` —, whoever wrote them);
/// - its shared-catalog state (``SharedDatabaseState``) is what it was, and its comment is
///   the owner marker the toolkit wrote;
/// - it has no prepared transaction and no replication slot.
///
/// Templates with unlogged relations, or whose sequences could not be left uncached, are
/// never recycled (their marker says so: ``OwnerMarker/recycling``). Where the witness
/// cannot work (no superuser, no `pg_walinspect`), clones are dropped as before, and that is
/// logged once. `PGTESTKIT_RECYCLE=0` turns recycling off.
///
/// The witness's replication slot keeps the WAL from the oldest open window on (a `FILE_COPY`
/// clone's checkpoint would otherwise recycle it before it is read); it moves on as windows
/// close. A window whose WAL is gone all the same (the slot could not be made, or the
/// server's `max_slot_wal_keep_size` cut it) cannot be vouched for: the clone is dropped.
actor CloneRecycler {
    /// Where a clone's window opened, and what its shared catalogs held then.
    struct Window: Sendable {
        /// The WAL insert position when the window opened.
        let start: WalLSN
        /// The shared-catalog state then.
        let state: SharedDatabaseState
        /// How many tests used the clone before this window (0 for a fresh clone).
        let uses: Int
    }

    private let witness: WalWitness
    private let logger: Logger
    /// The starts of the windows still open (a start → how many windows share it).
    private var openStarts: [WalLSN: Int] = [:]
    /// Set when the witness's session died (a server restart, a terminated backend): the next
    /// preparation opens a new recycler.
    private let broken = Mutex(false)
    private nonisolated var isBroken: Bool { broken.withLock { $0 } }

    private init(witness: WalWitness, logger: Logger) {
        self.witness = witness
        self.logger = logger
    }

    /// Whether recycling is wanted (`PGTESTKIT_RECYCLE`, default on).
    static func isEnabled(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["PGTESTKIT_RECYCLE"] != "0"
    }

    private static let saidWhyNot = Mutex(Set<String>())
    /// One recycler per server per process: one witness database, one slot, two connections.
    private static let shared = Mutex([[String: String]: Task<CloneRecycler?, Never>]())

    /// The process's recycler for clones of `template` on this server, or `nil` after saying
    /// once why clones are dropped instead.
    static func start(
        template: TemplateBuilder.Outcome, server: ConnectionString, serverParameters: [String: String],
        enabled: Bool, logger: Logger
    ) async -> CloneRecycler? {
        func whyNot(_ reason: String) -> CloneRecycler? {
            if saidWhyNot.withLock({ $0.insert(reason).inserted }) {
                logger.info("released clones are dropped, not recycled: \(reason)")
            }
            return nil
        }
        guard enabled else { return whyNot("recycling is off (recycle: false or PGTESTKIT_RECYCLE=0)") }
        guard let recycling = template.marker?.recycling else {
            return whyNot("the template \(template.name) was built before recycling existed (PGTESTKIT_REBUILD=1 rebuilds it)")
        }
        guard recycling == "ok" else { return whyNot("the template \(template.name): \(recycling)") }
        if let cached = shared.withLock({ $0[serverParameters] }), let recycler = await cached.value, recycler.isBroken {
            shared.withLock { cache in
                if cache[serverParameters] == cached { cache[serverParameters] = nil }
            }
        }
        let opening = shared.withLock { cache in
            if let existing = cache[serverParameters] { return existing }
            let task = Task { () -> Result<CloneRecycler, TestKitError> in
                do {
                    // The witness's own prefix (PGTESTKIT_PREFIX, default pgtk): it serves every manager.
                    let witness = try await WalWitness.open(server: server, logger: logger)
                    ExitCleanup.shared.register(witness.databaseName, server: serverParameters)
                    return .success(CloneRecycler(witness: witness, logger: logger))
                } catch {
                    return .failure(error as? TestKitError ?? TestKitError(.configuration, "\(error)", underlying: error))
                }
            }
            let recycler = Task { () -> CloneRecycler? in
                switch await task.value {
                case .success(let recycler): return recycler
                case .failure(let error):
                    _ = whyNot("the WAL cannot vouch for them (\(error.message))")
                    return nil
                }
            }
            cache[serverParameters] = recycler
            return recycler
        }
        return await opening.value
    }

    /// Opens a clone's window: call it before anything but the toolkit may reach the clone.
    func openWindow(on name: String, uses: Int) async throws -> Window {
        let found: SharedDatabaseState?
        do {
            found = try await witness.sharedState(of: name)   // and the window's start mark
        } catch {
            noteIfBroken(error)
            throw error
        }
        guard let state = found else {
            throw TestKitError(.configuration, "the clone \(name) is not in pg_database")
        }
        let start = state.lsn
        openStarts[start, default: 0] += 1
        return Window(start: start, state: state, uses: uses)
    }

    /// The admin connection for a recycled clone's rename and marker: the witness's, which
    /// nothing else keeps busy (the pool's own creates clones, a `CREATE DATABASE` at a time).
    nonisolated var admin: AdminConnection { witness.admin }

    /// Closes a window without a verdict (the clone is dropped or kept anyway).
    func discard(_ window: Window) async {
        await close(window)
    }

    private func close(_ window: Window) async {
        let oldest = openStarts.keys.min()
        if let count = openStarts[window.start] { openStarts[window.start] = count > 1 ? count - 1 : nil }
        // The slot moves on only when the oldest window closed.
        guard window.start == oldest else { return }
        if let next = openStarts.keys.min() {
            await witness.release(through: next)
        } else if let now = try? await witness.mark() {
            await witness.release(through: now)
        }
    }

    /// Closes `window` on the clone now called `name` (renamed, so no session is connected):
    /// the next window when it is clean, or what changed.
    func judge(_ name: String, _ window: Window, expectedComment: String?) async -> Result<Window, Reason> {
        let verdict = await verdict(name, window, expectedComment: expectedComment)
        if case .success(let next) = verdict { openStarts[next.start, default: 0] += 1 }
        await close(window)
        return verdict
    }

    private func verdict(_ name: String, _ window: Window, expectedComment: String?) async -> Result<Window, Reason> {
        do {
            guard let state = try await witness.sharedState(of: name, flushing: true) else { return .failure(Reason("it is gone")) }
            let end = state.lsn
            guard state.oid == window.state.oid else { return .failure(Reason("it is another database now")) }
            let records = try await witness.records(from: window.start, to: end, flushed: true)
                .filter { $0.database == state.oid && $0.altersDatabase }
            if !records.isEmpty {
                let kinds = Dictionary(grouping: records, by: { "\($0.resourceManager)/\($0.recordType)" })
                    .map { "\($0.key) ×\($0.value.reduce(0) { $0 + $1.count })" }.sorted().joined(separator: ", ")
                return .failure(Reason("the WAL shows changes: \(kinds)"))
            }
            if state.lingering > 0 { return .failure(Reason("a prepared transaction or replication slot remains")) }
            if state.catalogs != window.state.catalogs {
                return .failure(Reason("its shared catalogs changed (ALTER DATABASE, GRANT, security label or subscription)"))
            }
            if state.comment != expectedComment { return .failure(Reason("its comment changed (COMMENT ON DATABASE)")) }
            return .success(Window(start: end, state: state, uses: window.uses + 1))
        } catch {
            noteIfBroken(error)
            return .failure(Reason("the WAL could not vouch for it (\(error))"))
        }
    }

    private nonisolated func noteIfBroken(_ error: any Error) {
        if let error = error as? PGError, error.code == .connectionClosed || error.code == .connectionFailed {
            broken.withLock { $0 = true }
        }
    }

    /// Why a clone was not recycled.
    struct Reason: Error, Sendable {
        let text: String
        init(_ text: String) { self.text = text }
    }

}
