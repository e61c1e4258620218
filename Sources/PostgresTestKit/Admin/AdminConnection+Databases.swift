import Foundation

extension AdminConnection {
    /// Waits until no session other than the admin's is connected to `name`, up to `timeout`;
    /// returns the sessions still there after that.
    func waitForNoSessions(on name: String, timeout: Duration = .seconds(3)) async throws -> [SessionInfo] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let sessions = try await sessions(on: name)
            if sessions.isEmpty || ContinuousClock.now >= deadline { return sessions }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Terminates every session connected to a toolkit database (used before publishing a
    /// template that an app's own pool still holds).
    func terminateSessions(on name: String) async throws {
        try await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
    }

    /// Marks a template as in use by this run for as long as the admin session lives (a shared
    /// advisory lock): a newer template never drops it from under us.
    func holdTemplate(_ name: String) async throws {
        try await connection.execute("SELECT pg_advisory_lock_shared(hashtextextended($1, 0))", "pgtestkit:template-use:" + name)
    }

    /// Runs `body` only if no live run holds `name` (an exclusive try-lock); returns whether it ran.
    func ifTemplateUnused(_ name: String, _ body: () async throws -> Void) async throws -> Bool {
        let key = "pgtestkit:template-use:" + name
        guard try await connection.scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key, as: Bool.self) else {
            return false
        }
        do {
            try await body()
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
            throw error
        }
        try await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
        return true
    }

    /// Takes a session-level advisory lock keyed by `key` (waits for it).
    func advisoryLock(_ key: String, timeout: Duration = .seconds(600)) async throws {
        try await connection.execute("SELECT set_config('lock_timeout', $1, false)", "\(timeout.components.seconds)s")
        do {
            try await connection.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", "pgtestkit:" + key)
        } catch let error as PGError where error.sqlState == "55P03" {
            throw TestKitError(.timeout, "waited \(timeout) for another process to finish building the template (\(key)); is a test process hanging in its migrations?", underlying: error)
        }
    }
}
