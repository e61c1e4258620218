import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Drops, when the process exits, every database this process created and did not drop or
/// keep — pooled clones, drops still queued in the background, databases of tests that
/// crashed the task. Runs synchronously with plain libpq: there is no async context at exit.
final class ExitCleanup: Sendable {
    static let shared = ExitCleanup()

    private struct State {
        /// Database name → the server it lives on (a process may use several servers).
        var databases: [String: [String: String]] = [:]
        var creating = 0
        /// Set when the process is exiting: no new database may be created after that.
        var exiting = false
    }
    private let state = Mutex(State())

    /// Whether the process has begun exiting (no database is created from then on).
    var isExiting: Bool { state.withLock { $0.exiting } }

    func register(_ database: String, server: [String: String]) {
        RunReport.shared.installExitHook(after: server)
        state.withLock { $0.databases[database] = server }
    }

    func forget(_ database: String) {
        _ = state.withLock { $0.databases.removeValue(forKey: database) }
    }

    /// Runs `create` (a `CREATE DATABASE`) so that an exit during it waits for it to finish
    /// and then drops the database; `name` is registered before the statement is sent.
    func creating<T>(
        _ name: String, server: [String: String], isolation: isolated (any Actor)? = #isolation,
        _ create: () async throws -> T
    ) async throws -> T {
        RunReport.shared.installExitHook(after: server)
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

    func run() {
        // No new CREATE DATABASE from now on (a pool refill may still be running on another
        // thread); let those on the wire finish (bounded), so that their databases exist when
        // we drop them.
        state.withLock { $0.exiting = true }
        for _ in 0..<300 where state.withLock({ $0.creating > 0 }) {
            usleep(10_000)
        }
        let databases = state.withLock { state -> [String: [String: String]] in
            defer { state.databases.removeAll() }
            return state.databases
        }
        let byServer = Dictionary(grouping: databases.keys, by: { databases[$0]! })
        for (server, names) in byServer { drop(names.sorted(), on: server) }
    }

    private func drop(_ names: [String], on server: [String: String]) {
        var parameters = server
        parameters["dbname"] = "postgres"
        parameters["application_name"] = "pgtestkit-exit-cleanup"
        parameters["connect_timeout"] = "5"    // never hang the process's exit on a dead server
        parameters["options"] = "-c statement_timeout=10000"
        guard let conn = PQconnectdb(ConnectionString.keywordForm(parameters).raw) else { return }
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else { return }
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
            // WITH (FORCE) exists from PostgreSQL 13 on.
            PQclear(PQexec(conn, "DROP DATABASE IF EXISTS \"\(name)\"\(PQserverVersion(conn) >= 130000 ? " WITH (FORCE)" : "")"))
        }
    }
}
