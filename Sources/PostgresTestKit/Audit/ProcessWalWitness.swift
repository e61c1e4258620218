import Foundation
import Logging
import Synchronization

/// The one ``WalWitness`` a test process keeps per server: one WAL reader, two uses — the
/// recycling of unchanged clones (``CloneRecycler``) and the run audit's watch for writes the
/// statement log never sees (``RunWalAudit``).
///
/// Opened on first use, as a database create the process exit waits for; when its session
/// dies (a server restart, a terminated backend) the next use opens a new one in its place and
/// drops the old one's database. Where no witness can be opened (no superuser or
/// `pg_read_server_files`, no `pg_walinspect`), ``shared(server:serverParameters:logger:)``
/// returns the reason instead, every time, and both uses fall back.
actor ProcessWalWitness {
    private var witness: WalWitness
    private let server: ConnectionString
    private let serverParameters: [String: String]
    private let logger: Logger
    /// Set when a witness session died: the next ``current()`` opens a new witness first.
    private var broken = false
    /// The run audit's reader (``WalWitness/sibling()``), made on first use and again for
    /// each new witness.
    private var sibling: WalWitness?
    /// The last read of ``sharedRecords(from:to:)``, which the next one extends.
    private var shared: Task<(start: WalLSN, end: WalLSN, records: [WalRecord]), any Error>?

    private init(witness: WalWitness, server: ConnectionString, serverParameters: [String: String], logger: Logger) {
        self.witness = witness
        self.server = server
        self.serverParameters = serverParameters
        self.logger = logger
    }

    private static let opened = Mutex([[String: String]: Task<Result<ProcessWalWitness, TestKitError>, Never>]())

    /// The process's witness on this server, opened on the first call; or why none can be.
    static func shared(
        server: ConnectionString, serverParameters: [String: String], logger: Logger
    ) async -> Result<ProcessWalWitness, TestKitError> {
        await opening(server: server, serverParameters: serverParameters, logger: logger).value
    }

    /// Starts opening the process's witness on this server, if not started yet, without
    /// waiting: a session opening starts it first, so that the witness database is made while
    /// the template is found and the pool's connections are opened.
    static func beginOpening(server: ConnectionString, serverParameters: [String: String], logger: Logger) {
        _ = opening(server: server, serverParameters: serverParameters, logger: logger)
    }

    private static func opening(
        server: ConnectionString, serverParameters: [String: String], logger: Logger
    ) -> Task<Result<ProcessWalWitness, TestKitError>, Never> {
        opened.withLock { cache in
            if let existing = cache[serverParameters] { return existing }
            let task = Task { () -> Result<ProcessWalWitness, TestKitError> in
                do {
                    let witness = try await open(server: server, serverParameters: serverParameters, logger: logger)
                    return .success(ProcessWalWitness(witness: witness, server: server, serverParameters: serverParameters, logger: logger))
                } catch {
                    return .failure(error as? TestKitError ?? TestKitError(.configuration, "\(error)", underlying: error))
                }
            }
            cache[serverParameters] = task
            return task
        }
    }

    /// Opens a witness, its database registered for the exit's cleanup before it is made.
    private static func open(server: ConnectionString, serverParameters: [String: String], logger: Logger) async throws -> WalWitness {
        try await ExitCleanup.shared.creatingUnnamed(server: serverParameters) {
            // The witness's own prefix (PGTESTKIT_PREFIX, default pgtk): it serves every manager.
            try await WalWitness.open(server: server, reserveWAL: false, logger: logger)   // registered by its create
        }
    }

    /// The witness, opened anew when its session died. Marks taken on the old one stay valid
    /// (an LSN is the server's), but WAL a checkpoint removed meanwhile can no longer be read.
    func current() async throws -> WalWitness {
        guard broken else { return witness }
        let old = witness
        let fresh = try await Self.open(server: server, serverParameters: serverParameters, logger: logger)
        witness = fresh
        broken = false
        if let sibling { await sibling.closeSession() }
        sibling = nil
        logger.notice("the WAL witness lost its session; opened \(fresh.databaseName) in its place")
        _ = try? await fresh.admin.dropDatabase(old.databaseName)
        await old.admin.close()
        return fresh
    }

    /// A reader with a session of its own on the current witness's database, for reads that
    /// may be long (the run audit's), so that they never hold up recycling's windows.
    func reader() async throws -> WalWitness {
        let current = try await current()
        if let sibling { return sibling }
        let made = try await current.sibling()
        sibling = made
        return made
    }

    /// The record groups of every database from `start` to `end` (flushed), for the pools
    /// of this process that adopt ready clones at once: one read serves them all. A read that
    /// began at or before `start` is extended from its end rather than read again; the groups
    /// of each stretch are kept apart, so a group's `lastLSN` still says whether it reaches
    /// past a given start.
    func sharedRecords(from start: WalLSN, to end: WalLSN) async throws -> [WalRecord] {
        let previous = shared
        let task = Task { () -> (start: WalLSN, end: WalLSN, records: [WalRecord]) in
            if let done = try? await previous?.value, done.start <= start {
                guard end > done.end else { return done }
                let more = try await self.current().records(from: done.end, to: end, flushed: true)
                return (done.start, end, done.records + more)
            }
            return (start, end, try await self.current().records(from: start, to: end, flushed: true))
        }
        shared = task
        let read = try await task.value
        return read.records.filter { ($0.lastLSN ?? read.end) >= start }
    }

    /// The witness's admin connection, which nothing else keeps busy.
    var admin: AdminConnection { witness.admin }

    /// Notes a failure of a witness session (its own query, or one on its admin connection):
    /// a lost session makes the next ``current()`` open a new witness.
    func noteFailure(_ error: any Error) {
        if let error = error as? PGError, error.code == .connectionClosed || error.code == .connectionFailed {
            broken = true
        }
    }

    /// Runs `body` on the current witness (its ``reader()`` when `reader`); when that fails
    /// because the session was lost, once more on a new witness — marks taken before stay
    /// valid, an LSN being the server's. Other failures are thrown as they come.
    func retryingOnce<T>(
        reader: Bool = false, isolation: isolated (any Actor)? = #isolation, _ body: (WalWitness) async throws -> T
    ) async throws -> T {
        do {
            return try await body(reader ? await self.reader() : await current())
        } catch {
            await noteFailure(error)
            guard await broken else { throw error }
            return try await body(reader ? await self.reader() : await current())
        }
    }
}
