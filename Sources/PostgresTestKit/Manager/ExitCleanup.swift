import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Drops, when the process exits, every database this process created and did not drop or
/// keep — pooled clones, drops still queued in the background, databases of tests that
/// crashed the task. Runs synchronously with plain libpq: there is no async context at exit.
/// ``ProcessShutdown`` runs it after the run audit's final reads.
final class ExitCleanup: Sendable {
    static let shared = ExitCleanup()

    private struct State {
        /// Database name → the server it lives on (a process may use several servers).
        var databases: [String: [String: String]] = [:]
        /// Creates and renames under way (the cleanup waits for them before it takes its list).
        var creating = 0
        /// Set when the process is exiting: no new database may be created after that.
        var exiting = false
        /// Ready pool clones that may be left for the next process (the warm pool), with the
        /// marker that says so, instead of dropped.
        var leavable: [String: OwnerMarker] = [:]
        /// Verdicts under way on released clones: the exit gives them a moment to bring their
        /// clones back into the pool, so that it can leave them for the next process.
        var verdicts = 0
    }
    private let state = Mutex(State())

    /// Whether the process has begun exiting (no database is created from then on).
    var isExiting: Bool { state.withLock { $0.exiting } }

    func register(_ database: String, server: [String: String]) {
        ProcessShutdown.shared.installExitHook(after: server)
        state.withLock { $0.databases[database] = server }
    }

    /// Whether `database` would be dropped at exit.
    func isRegistered(_ database: String) -> Bool {
        state.withLock { $0.databases[database] != nil }
    }

    func forget(_ database: String) {
        state.withLock {
            $0.databases.removeValue(forKey: database)
            $0.leavable.removeValue(forKey: database)
        }
    }

    /// A ready pool clone that the exit may leave on the server, marked `marker` (kind
    /// ``OwnerMarker/Kind/ready``), for the next process to adopt; else it is dropped as usual.
    func mayLeave(_ database: String, as marker: OwnerMarker) {
        state.withLock { state in
            guard state.databases[database] != nil, !state.exiting else { return }
            state.leavable[database] = marker
        }
    }

    /// Takes a ready clone out of what the exit may leave, for a lease: `false` once the
    /// process is exiting (the exit may be leaving it for another process right now).
    func lease(_ database: String) -> Bool {
        state.withLock { state in
            guard !state.exiting else { return false }
            state.leavable.removeValue(forKey: database)
            return true
        }
    }

    /// Runs a verdict on a released clone (its rename, WAL read, reset, reconnect): an exit
    /// that comes meanwhile waits for it a moment (bounded) before it takes its list.
    func judging<T>(isolation: isolated (any Actor)? = #isolation, _ verdict: () async -> T) async -> T {
        state.withLock { $0.verdicts += 1 }
        defer { state.withLock { $0.verdicts -= 1 } }
        return await verdict()
    }


    /// Runs `create` (a `CREATE DATABASE`) so that an exit during it waits for it to finish
    /// and then drops the database; `name` is registered before the statement is sent.
    func creating<T>(
        _ name: String, server: [String: String], isolation: isolated (any Actor)? = #isolation,
        _ create: () async throws -> T
    ) async throws -> T {
        ProcessShutdown.shared.installExitHook(after: server)
        let (allowed, known) = state.withLock { state -> (Bool, Bool) in
            guard !state.exiting else { return (false, false) }
            let known = state.databases[name] != nil
            state.databases[name] = server
            state.creating += 1
            return (true, known)
        }
        guard allowed else {
            throw TestKitError(.configuration, "the process is exiting; no new database is created")
        }
        defer { state.withLock { $0.creating -= 1 } }
        do {
            return try await create()
        } catch {
            if !known { forget(name) }   // not ours: never drop a same-named database at exit
            throw error
        }
    }

    /// Runs `rename` (an `ALTER DATABASE … RENAME`) so that the exit's cleanup sees the
    /// database under one of its names, whenever the exit comes: `newName` is registered
    /// before the statement is sent and `name` forgotten once it succeeded, an exit meanwhile
    /// waits for it (as for a create), and none starts once the process is exiting — a rename
    /// after the cleanup had taken its list would leave the database under a name it never saw.
    ///
    /// `claiming`: the database is not this process's yet (a ready clone being adopted): it is
    /// registered under its new name all the same.
    func renaming(
        _ name: String, to newName: String, server: [String: String], claiming: Bool = false,
        isolation: isolated (any Actor)? = #isolation, _ rename: () async throws -> Void
    ) async throws {
        let (allowed, registered) = state.withLock { state -> (Bool, Bool) in
            guard !state.exiting else { return (false, false) }
            let registered = claiming || state.databases[name] != nil
            if registered { state.databases[newName] = server }
            state.creating += 1
            return (true, registered)
        }
        guard allowed else {
            throw TestKitError(.configuration, "the process is exiting; no database is renamed")
        }
        defer { state.withLock { $0.creating -= 1 } }
        do {
            try await rename()
        } catch {
            if registered { forget(newName) }
            throw error
        }
        if registered { forget(name) }
    }

    /// Runs `create`, which makes a database whose name it learns itself and must
    /// ``register(_:server:)`` before it returns: an exit during it waits for it, and none
    /// starts once the process is exiting.
    func creatingUnnamed<T>(
        server: [String: String], isolation: isolated (any Actor)? = #isolation, _ create: () async throws -> T
    ) async throws -> T {
        ProcessShutdown.shared.installExitHook(after: server)
        let allowed = state.withLock { state -> Bool in
            guard !state.exiting else { return false }
            state.creating += 1
            return true
        }
        guard allowed else {
            throw TestKitError(.configuration, "the process is exiting; no new database is created")
        }
        defer { state.withLock { $0.creating -= 1 } }
        return try await create()
    }

    /// Drops every database still registered, after the creates under way have finished;
    /// no database is created from then on.
    func run() {
        // No new CREATE DATABASE from now on (a pool refill may still be running on another
        // thread); let those on the wire finish (bounded), so that their databases exist when
        // we drop them.
        // Verdicts under way bring their clones back into the pool, where the exit can leave
        // them for the next process: a moment for them (bounded), before anything is refused.
        for _ in 0..<200 where state.withLock({ $0.verdicts > 0 && !$0.exiting }) {
            usleep(5_000)
        }
        state.withLock { $0.exiting = true }
        for _ in 0..<300 where state.withLock({ $0.creating > 0 }) {
            usleep(10_000)
        }
        let (databases, leaving) = state.withLock { state -> ([String: [String: String]], [String: OwnerMarker]) in
            defer {
                state.databases.removeAll()
                state.leavable.removeAll()
            }
            return (state.databases, state.leavable.filter { state.databases[$0.key] != nil })
        }
        let byServer = Dictionary(grouping: databases.keys, by: { databases[$0]! })
        for (server, names) in byServer { settle(names.sorted(), leaving: leaving, on: server) }
    }

    /// Drops `names` on `server`, but leaves those in `leaving` as ready clones, marked so.
    private func settle(_ names: [String], leaving: [String: OwnerMarker], on server: [String: String]) {
        var parameters = server
        parameters["dbname"] = "postgres"
        parameters["application_name"] = "pgtestkit-exit-cleanup"
        parameters["connect_timeout"] = "5"    // never hang the process's exit on a dead server
        parameters["options"] = "-c statement_timeout=10000"
        // A server whose connection slots are full for a moment (a parallel suite's pools) gets
        // a few more tries: a refused connection here leaves every database of the process.
        var connection: OpaquePointer?
        for attempt in 0..<10 {
            if attempt > 0 { usleep(100_000) }
            connection = PQconnectdb(ConnectionString.keywordForm(parameters).raw)
            if let opened = connection, PQstatus(opened) == CONNECTION_OK { break }
            let message = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? ""
            if let failed = connection { PQfinish(failed) }
            connection = nil
            // Only full slots are worth another try; a server that is gone must not hang the exit.
            guard message.contains("too many clients") || message.contains("remaining connection slots") else { break }
        }
        guard let conn = connection else { return }
        defer { PQfinish(conn) }
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        for name in names {
            guard (try? DatabaseName.validate(name)) != nil else { continue }
            // The owner marker is checked by the server in the same statement sequence.
            let check = name.withCString { value in
                var values: [UnsafePointer<CChar>?] = [value]
                return PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') LIKE 'pgtestkit %'", 1, nil, &values, nil, nil, 0)
            }
            let owned = check.map { PQntuples($0) == 1 } ?? false
            PQclear(check)
            guard owned else { continue }
            if let marker = leaving[name], let literal = Self.literal(marker.comment, conn) {
                // Left for the next process: its marker says from which WAL position it is unchanged.
                let result = PQexec(conn, "COMMENT ON DATABASE \"\(name)\" IS \(literal)")
                let left = PQresultStatus(result) == PGRES_COMMAND_OK
                PQclear(result)
                if left { continue }
            }
            // WITH (FORCE) exists from PostgreSQL 13 on.
            PQclear(PQexec(conn, "DROP DATABASE IF EXISTS \"\(name)\"\(PQserverVersion(conn) >= 130000 ? " WITH (FORCE)" : "")"))
        }
    }

    /// `text` as an SQL string literal, escaped by libpq for this connection.
    private static func literal(_ text: String, _ conn: OpaquePointer) -> String? {
        guard let escaped = PQescapeLiteral(conn, text, text.utf8.count) else { return nil }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }
}
