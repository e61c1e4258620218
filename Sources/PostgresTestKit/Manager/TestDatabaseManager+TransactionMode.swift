import Foundation

/// Transaction mode (``Isolation/transaction``): one clone shared by the manager, a rolled-back
/// transaction per test on a reused toolkit connection.
extension TestDatabaseManager {
    func acquireSandbox(testName: String?) async throws -> PostgresTestDatabase {
        let started = ContinuousClock.now
        let shared = try await sharedDatabase()
        let connection: Connection
        if let idle = idleSandboxes.popLast() {
            connection = idle
        } else {
            connection = try await Connection.connect(to: shared.connectionString, applicationName: testApplicationName, logger: logger)
            try await HookGuard(hooks: hooks, recorder: recorder).run(on: connection, database: shared.name, phase: .connecting, migrated: true)
        }
        try await connection.enterSandbox()
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

    func sharedDatabase() async throws -> PostgresTestDatabase {
        if let sharedClone { return try await sharedClone.value }
        let task = Task { try await self.acquire(testName: "transactions", isolation: .database) }
        sharedClone = task
        do {
            return try await task.value
        } catch {
            sharedClone = nil
            throw error
        }
    }

    func releaseSandbox(_ database: PostgresTestDatabase) async {
        guard liveSandboxes.remove(ObjectIdentifier(database)) != nil else { return }
        database.recordTestTime()
        try? database.phases.enter(.releasing)
        do {
            try await database.connection.leaveSandbox()
            idleSandboxes.append(database.connection)
        } catch {
            logger.warning("could not roll back the transaction of \(database.testName ?? "a test"); closing its connection: \(error)")
            await database.connection.close()
        }
        try? database.phases.enter(.dropped)
    }
}
