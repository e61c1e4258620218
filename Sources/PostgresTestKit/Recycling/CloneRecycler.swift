import Foundation
import Logging
import Synchronization

/// Judges a released clone clean or changed from the WAL, so that a clean one goes back to
/// the pool instead of paying a `DROP DATABASE` and a `CREATE DATABASE`.
///
/// The process's ``ProcessWalWitness``, which the run audit reads too (``RunWalAudit``), and
/// the same ``WalWitness`` as `pgtestkit audit`: one WAL reader, two uses. A clone's window opens when it is made (before its connect hooks) or when it
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
/// server keeps recent WAL (`wal_keep_size`: 1 GB on the embedded server); a window whose
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

    private let witness: ProcessWalWitness
    private let logger: Logger

    private init(witness: ProcessWalWitness, logger: Logger) {
        self.witness = witness
        self.logger = logger
    }

    private static let saidWhyNot = Mutex(Set<String>())

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
        switch await ProcessWalWitness.shared(server: server, serverParameters: serverParameters, logger: logger) {
        case .success(let witness): return CloneRecycler(witness: witness, logger: logger)
        case .failure(let error): return whyNot("the WAL cannot vouch for them (\(error.message))")
        }
    }

    /// Opens a clone's window: call it before anything but the toolkit may reach the clone.
    func openWindow(on name: String, uses: Int) async throws -> Window {
        // The shared state carries the window's start mark.
        guard let state = try await witness.retryingOnce({ try await $0.sharedState(of: name) }) else {
            throw TestKitError(.configuration, "the clone \(name) is not in pg_database")
        }
        let start = state.lsn
        return Window(start: start, state: state, uses: uses)
    }

    /// The admin connection for a recycled clone's rename and marker: the witness's, which
    /// nothing else keeps busy (the pool's own creates clones, a `CREATE DATABASE` at a time).
    var admin: AdminConnection { get async { await witness.admin } }

    /// A clone judged fit to go back into the pool: as it is, or once the rows of `reset`
    /// are reset (``CloneReset``; the next window then opens after the reset).
    struct Judgement: Sendable {
        /// The next window, from the verdict on (when nothing needs a reset).
        let next: Window
        /// The relation files whose rows changed; empty when nothing did.
        let reset: Set<ResetRule.RelationFile>
    }

    /// Closes `window` on the clone now called `name` (renamed, so no session is connected):
    /// whether it is clean or only rows changed (``ResetRule``), or why it must be dropped.
    func judge(_ name: String, _ window: Window, expectedComment: String?) async -> Result<Judgement, Reason> {
        do {
            let witness = try await self.witness.current()
            guard let state = try await witness.sharedState(of: name, flushing: true) else { return .failure(Reason("it is gone")) }
            let end = state.lsn
            guard state.oid == window.state.oid else { return .failure(Reason("it is another database now")) }
            let records = try await witness.records(from: window.start, to: end, flushed: true, database: state.oid)
                .filter { $0.database == state.oid && $0.altersDatabase }
            var reset: Set<ResetRule.RelationFile> = []
            switch ResetRule().decide(records) {
            case .unchanged: break
            case .reset(let files): reset = files
            case .drop(let why):
                let kinds = Dictionary(grouping: records, by: { "\($0.resourceManager)/\($0.recordType)" })
                    .map { "\($0.key) ×\($0.value.reduce(0) { $0 + $1.count })" }.sorted().joined(separator: ", ")
                return .failure(Reason("the WAL shows changes a reset cannot undo: \(why) (\(kinds))"))
            }
            if state.lingering > 0 { return .failure(Reason("a prepared transaction or replication slot remains")) }
            if state.catalogs != window.state.catalogs {
                return .failure(Reason("its shared catalogs changed (ALTER DATABASE, GRANT, security label or subscription)"))
            }
            if state.comment != expectedComment { return .failure(Reason("its comment changed (COMMENT ON DATABASE)")) }
            return .success(Judgement(next: Window(start: end, state: state, uses: window.uses + 1), reset: reset))
        } catch {
            await witness.noteFailure(error)
            return .failure(Reason("the WAL could not vouch for it (\(error))"))
        }
    }

    /// Judges several clones at once — ready clones just claimed (renamed) for adoption — with
    /// one WAL read from the earliest window's start: each clone counts the record groups of
    /// its database that reach past its own window's start. Only an unchanged clone passes
    /// (a changed ready clone is not adopted, reset or not); the next windows start now.
    func judgeAll(_ clones: [(name: String, window: Window, comment: String?)]) async -> [String: Result<Window, Reason>] {
        guard let earliest = clones.map(\.window.start).min() else { return [:] }
        do {
            let witness = try await self.witness.current()
            // One round trip for them all, which flushes the WAL past them.
            let states = try await witness.sharedStates(of: clones.map(\.name), flushing: true)
            guard let end = states.values.map(\.lsn).max() else { return [:] }
            // One read for every pool of the process adopting now (they start together).
            let records = try await self.witness.sharedRecords(from: earliest, to: end).filter(\.altersDatabase)
            var verdicts: [String: Result<Window, Reason>] = [:]
            for clone in clones {
                guard let state = states[clone.name] else { verdicts[clone.name] = .failure(Reason("it is gone")); continue }
                guard state.oid == clone.window.state.oid else { verdicts[clone.name] = .failure(Reason("it is another database now")); continue }
                let changes = records.filter { $0.database == state.oid && ($0.lastLSN ?? end) >= clone.window.start }
                if !changes.isEmpty {
                    let kinds = Set(changes.map { "\($0.resourceManager)/\($0.recordType)" }).sorted().joined(separator: ", ")
                    verdicts[clone.name] = .failure(Reason("it changed since it was left (\(kinds))"))
                } else if state.lingering > 0 {
                    verdicts[clone.name] = .failure(Reason("a prepared transaction or replication slot remains"))
                } else if state.catalogs != clone.window.state.catalogs {
                    verdicts[clone.name] = .failure(Reason("its shared catalogs changed (ALTER DATABASE, GRANT, security label or subscription)"))
                } else if state.comment != clone.comment {
                    verdicts[clone.name] = .failure(Reason("its comment changed (COMMENT ON DATABASE)"))
                } else {
                    verdicts[clone.name] = .success(Window(start: state.lsn, state: state, uses: clone.window.uses))
                }
            }
            return verdicts
        } catch {
            await witness.noteFailure(error)
            return Dictionary(clones.map { ($0.name, .failure(Reason("the WAL could not vouch for it (\(error))"))) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Notes a failure of a witness session (a rename or marker on its admin connection):
    /// a lost session makes the next window open a new witness.
    func noteFailure(_ error: any Error) async {
        await witness.noteFailure(error)
    }

    /// Why a clone was not recycled.
    struct Reason: Error, Sendable {
        let text: String
        init(_ text: String) { self.text = text }
    }

}
