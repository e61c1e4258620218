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
/// No replication slot holds the WAL for the windows: one would have to hold it from the
/// oldest open window on — a clone a test never releases, a pool nobody takes from — until
/// the server's `max_slot_wal_keep_size` ends the witness's session, and slots are few. The
/// server keeps recent WAL (`wal_keep_size`: 256 MB on the embedded server); a window whose
/// WAL a checkpoint removed before it was read cannot be vouched for, and its clone is
/// dropped as before.
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

    private var witness: WalWitness
    private let server: ConnectionString
    private let serverParameters: [String: String]
    private let logger: Logger
    /// Set when a witness session died (a server restart, a terminated backend): the next
    /// window opens a new witness first.
    private var broken = false

    private init(witness: WalWitness, server: ConnectionString, serverParameters: [String: String], logger: Logger) {
        self.witness = witness
        self.server = server
        self.serverParameters = serverParameters
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
        let opening = shared.withLock { cache in
            if let existing = cache[serverParameters] { return existing }
            let task = Task { () -> Result<CloneRecycler, TestKitError> in
                do {
                    // The witness's own prefix (PGTESTKIT_PREFIX, default pgtk): it serves every manager.
                    let witness = try await ExitCleanup.shared.creatingUnnamed(server: serverParameters) {
                        let witness = try await WalWitness.open(server: server, reserveWAL: false, logger: logger)
                        ExitCleanup.shared.register(witness.databaseName, server: serverParameters)
                        return witness
                    }
                    return .success(CloneRecycler(witness: witness, server: server, serverParameters: serverParameters, logger: logger))
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
        var found: SharedDatabaseState?
        do {
            found = try await usableWitness().sharedState(of: name)   // and the window's start mark
        } catch {
            noteFailure(error)
            guard broken else { throw error }
            found = try await usableWitness().sharedState(of: name)   // once more, on a new witness
        }
        guard let state = found else {
            throw TestKitError(.configuration, "the clone \(name) is not in pg_database")
        }
        let start = state.lsn
        return Window(start: start, state: state, uses: uses)
    }

    /// The admin connection for a recycled clone's rename and marker: the witness's, which
    /// nothing else keeps busy (the pool's own creates clones, a `CREATE DATABASE` at a time).
    var admin: AdminConnection { witness.admin }

    /// Closes `window` on the clone now called `name` (renamed, so no session is connected):
    /// the next window when it is clean, or what changed.
    func judge(_ name: String, _ window: Window, expectedComment: String?) async -> Result<Window, Reason> {
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
            noteFailure(error)
            return .failure(Reason("the WAL could not vouch for it (\(error))"))
        }
    }

    /// Notes a failure of a witness session (its own query, or a rename or marker on its
    /// admin connection): a lost session makes the next window open a new witness.
    func noteFailure(_ error: any Error) {
        if let error = error as? PGError, error.code == .connectionClosed || error.code == .connectionFailed {
            broken = true
        }
    }

    /// The witness, opened anew (and the dead one's database dropped) when its session died.
    /// The windows opened on the old one may no longer be readable: their clones are dropped.
    private func usableWitness() async throws -> WalWitness {
        guard broken else { return witness }
        let old = witness
        let fresh = try await ExitCleanup.shared.creatingUnnamed(server: serverParameters) { [server, serverParameters, logger] in
            let fresh = try await WalWitness.open(server: server, reserveWAL: false, logger: logger)
            ExitCleanup.shared.register(fresh.databaseName, server: serverParameters)
            return fresh
        }
        witness = fresh
        broken = false
        logger.notice("the WAL witness lost its session; opened \(fresh.databaseName) in its place")
        _ = try? await fresh.admin.dropDatabase(old.databaseName)
        ExitCleanup.shared.forget(old.databaseName)
        await old.admin.close()
        return fresh
    }

    /// Why a clone was not recycled.
    struct Reason: Error, Sendable {
        let text: String
        init(_ text: String) { self.text = text }
    }

}
