import Foundation
import Synchronization

/// Transaction mode (``Isolation/transaction``): one clone shared by the manager, a rolled-back
/// transaction per test on a reused toolkit connection.
///
/// A test that ends its sandbox's outer transaction anyway (see ``SavepointRewriter``) fails at
/// that statement; at its release the shared clone is retired — no later test gets it — and
/// dropped once the tests still running on it are released.
extension TestDatabaseManager {
    /// A shared clone a sandbox escaped from, with the live sandboxes still using it.
    struct RetiredClone: Sendable {
        let database: PostgresTestDatabase
        var users: Set<ObjectIdentifier>
    }

    /// Retired shared clones, per manager (an extension cannot add stored properties).
    private static let retiredClones = Mutex<[ObjectIdentifier: [RetiredClone]]>([:])

    private nonisolated var retired: [RetiredClone] {
        Self.retiredClones.withLock { $0[ObjectIdentifier(self)] ?? [] }
    }

    func acquireSandbox(testName: String?) async throws -> PostgresTestDatabase {
        let started = ContinuousClock.now
        while true {
            let shared = try await sharedDatabase()
            let generation = sharedClone
            let connection: Connection
            if let idle = idleSandboxes.popLast() {
                connection = idle
            } else {
                connection = try await HookGuard(hooks: hooks, recorder: recorder).runOrClose(
                    try await Connection.connect(to: shared.connectionString, applicationName: testApplicationName, logger: logger),
                    database: shared.name)
            }
            do {
                try await connection.enterSandbox()
            } catch {
                await connection.close()
                throw error
            }
            // The shared clone may have been retired while this connection was being made.
            guard sharedClone == generation else {
                await connection.close()
                continue
            }
            let phases = PhaseLog(database: shared.name)
            try phases.enter(.ready)
            let database = PostgresTestDatabase(
                name: shared.name, testName: testName, connectionString: shared.connectionString, connectionDetails: shared.connectionDetails,
                connection: connection, phases: phases, fromPool: false, isolation: .transaction, manager: self)
            liveSandboxes.insert(ObjectIdentifier(database))
            let elapsed = (ContinuousClock.now - started).milliseconds
            RunReport.shared.update { $0.setupMilliseconds += elapsed }
            return database
        }
    }

    func sharedDatabase() async throws -> PostgresTestDatabase {
        if let sharedClone { return try await sharedClone.value }
        let task = Task { try await self.acquire(testName: "transactions", isolation: .database) }
        sharedClone = task
        do {
            return try await task.value
        } catch {
            if sharedClone == task { sharedClone = nil }
            throw error
        }
    }

    func releaseSandbox(_ database: PostgresTestDatabase) async {
        let id = ObjectIdentifier(database)
        guard liveSandboxes.remove(id) != nil else { return }
        database.recordTestTime()
        try? database.phases.enter(.releasing)
        let connection = database.connection
        var reusable = false
        do {
            if let escape = try await connection.leaveSandbox() {
                await retireSharedClone(database, escape)
            } else {
                reusable = !retired.contains { $0.database.name == database.name }
            }
        } catch {
            logger.warning("could not roll back the transaction of \(database.testName ?? "a test"); closing its connection: \(error)")
        }
        if reusable { idleSandboxes.append(connection) } else { await connection.close() }
        await dropRetiredClones(releasing: id)
        try? database.phases.enter(.rolledBack)
    }

    /// Records the escape, undoes what can be undone (prepared transactions, which would keep
    /// the clone from being dropped) and takes the shared clone out of service.
    private func retireSharedClone(_ database: PostgresTestDatabase, _ escape: (error: TestKitError, statement: String?)) async {
        let connection = database.connection
        recorder.record(LifecycleViolation(
            kind: .transactionSandboxEscaped, phase: .ready, database: database.name, statement: escape.statement,
            sessionPID: await connection.backendPID,
            note: "test \(database.testName ?? "?") ended the outer transaction of its sandbox; the shared clone was replaced. \(escape.error.message)"))
        if let xacts = try? await connection.execute("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()") {
            for row in xacts.rows {
                guard let gid = row[0], let literal = try? await connection.quoteLiteral(gid) else { continue }
                _ = try? await connection.simpleQuery("ROLLBACK PREPARED \(literal)")
            }
        }
        guard let current = sharedClone, let shared = try? await current.value, shared.name == database.name,
              sharedClone == current else { return }
        sharedClone = nil
        let idle = idleSandboxes
        idleSandboxes.removeAll()
        for connection in idle { await connection.close() }
        let older = retired.reduce(into: Set<ObjectIdentifier>()) { $0.formUnion($1.users) }
        let users = liveSandboxes.subtracting(older)
        Self.retiredClones.withLock { $0[ObjectIdentifier(self), default: []].append(RetiredClone(database: shared, users: users)) }
        logger.warning("the shared transaction-mode clone \(shared.name) was retired: \(database.testName ?? "a test") committed to it")
    }

    /// Drops the retired clones no live sandbox uses any more.
    private func dropRetiredClones(releasing id: ObjectIdentifier) async {
        let unused: [PostgresTestDatabase] = Self.retiredClones.withLock { table in
            guard var clones = table[ObjectIdentifier(self)] else { return [] }
            for index in clones.indices { clones[index].users.remove(id) }
            let done = clones.filter { $0.users.isEmpty }.map(\.database)
            clones.removeAll { $0.users.isEmpty }
            table[ObjectIdentifier(self)] = clones.isEmpty ? nil : clones
            return done
        }
        for database in unused {
            do { try await release(database) } catch { logger.warning("could not drop the retired shared clone \(database.name): \(error)") }
        }
    }
}
