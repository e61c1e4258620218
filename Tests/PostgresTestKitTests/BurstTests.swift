import Foundation
import Synchronization
import Testing
@testable import PostgresTestKit

/// A burst of parallel acquires — a Swift Testing suite starting its tests at once — is served
/// on several admin lanes, never more than the bound, and the pool learns its size.
@Suite("Bursts of parallel acquires")
struct BurstTests {
    /// Shuts `manager` down and drops its template (each test here has a prefix of its own).
    static func shutDownAndDropTemplate(_ manager: TestDatabaseManager) async throws {
        let template = try await manager.templateName
        await manager.shutdown()
        guard let template else { return }
        let admin = try await TestSupport.admin()
        _ = try? await admin.dropDatabase(template)
        await admin.close()
    }

    /// A cancelled acquire waiting for a lane leaves the line at once (it does not wait for a
    /// lane to free), and the lane it never got still serves the next one.
    @Test func aCancelledWaitForALaneEndsAtOnce() async throws {
        let lanes = AdminLanes(server: try await TestSupport.server(), runID: RunID(), limit: 1, logger: TestSupport.logger)
        let holding = Task {   // the only lane, busy for a while
            try await lanes.withLane { lane in try await lane.connection.execute("SELECT pg_sleep(2)") }
        }
        try await Task.sleep(for: .milliseconds(300))
        let waiter = Task { try await lanes.withLane { _ in "got a lane" } }
        try await Task.sleep(for: .milliseconds(100))
        let cancelled = ContinuousClock.now
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(ContinuousClock.now - cancelled < .milliseconds(1500), "the cancelled acquire waited for the busy lane")
        _ = try await holding.value
        #expect(try await lanes.withLane { _ in "served" } == "served")
        await lanes.close()
    }

    /// A server that cannot be reached fails every acquire waiting for a lane with the
    /// connect error, not only the two that opened one: nobody waits for a lane that will
    /// never be given back (the suite hung without a server).
    @Test(.timeLimit(.minutes(1)))
    func everyAcquireWaitingForALaneFailsWhenTheServerCannotBeReached() async throws {
        let lanes = AdminLanes(server: ConnectionString("host=127.0.0.1 port=1 dbname=postgres user=postgres connect_timeout=2"),
                               runID: RunID(), limit: 2, logger: TestSupport.logger)
        let failures = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    do { _ = try await lanes.withLane { _ in "connected" }; return nil } catch { return error }
                }
            }
            return await group.reduce(into: [any Error]()) { if let error = $1 { $0.append(error) } }
        }
        await lanes.close()
        #expect(failures.count == 6)
        #expect(failures.allSatisfy { "\($0)".contains("127.0.0.1") }, "each failure names the server: \(failures)")
    }

    @Test func lanesNeverExceedTheirBoundAndAreReused() async throws {
        let lanes = AdminLanes(server: try await TestSupport.server(), runID: RunID(), limit: 2, logger: TestSupport.logger)
        final class Seen: Sendable {
            let running = Mutex((now: 0, most: 0))
            let backends = Mutex(Set<Int32>())
        }
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await lanes.withLane { lane in
                        seen.running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        let pid = await lane.connection.backendPID
                        seen.backends.withLock { _ = $0.insert(pid) }
                        try await lane.connection.execute("SELECT pg_sleep(0.05)")
                        seen.running.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        await lanes.close()
        #expect(seen.running.withLock { $0.most } == 2, "two at once, as bounded")
        #expect(seen.backends.withLock { $0.count } == 2, "six statements, two connections")
    }

    @Test func thePoolLearnsTheSizeOfABurst() async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
            poolSize: 1, logger: TestSupport.logger)
        try await manager.prepare()
        let databases = try await withThrowingTaskGroup(of: PostgresTestDatabase.self) { group in
            for _ in 0..<5 { group.addTask { try await manager.acquire(testName: "burst") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(databases.contains { !$0.fromPool }, "a pool of 1 cannot serve 5 at once")
        for db in databases { try await db.release() }
        let deadline = ContinuousClock.now + .seconds(20)
        var ready = 0
        while ContinuousClock.now < deadline {
            ready = try await manager.pooledClones
            if ready >= 4 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Self.shutDownAndDropTemplate(manager)
        #expect(ready >= 4, "the pool grew towards the burst it saw (ready: \(ready))")
    }

    /// A burst larger than the pool: its first tests are done (and their clones reset) before
    /// its last acquires get a lane, and those take the clones that came back instead of
    /// creating. Every test still starts from the template's state (the twin: the clones it
    /// takes were written into by the tests before).
    @Test func aBurstsLastTestsTakeTheClonesItsFirstGaveBack() async throws {
        guard try await CloneRecyclingTests.serverHasWalinspect() else { return }   // nothing comes back without the WAL
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
            poolSize: 1, logger: TestSupport.logger)
        try await manager.prepare()
        let outcomes = try await withThrowingTaskGroup(of: (fromPool: Bool, empty: Bool).self) { group in
            for index in 0..<24 {
                group.addTask {
                    let db = try await manager.acquire(testName: "burst\(index)")
                    let empty = try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0
                    try await db.execute("INSERT INTO customers (email, name) VALUES ($1, 'Burst')", "b\(index)@example.com")
                    try await db.release()
                    return (db.fromPool, empty)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await Self.shutDownAndDropTemplate(manager)
        #expect(outcomes.allSatisfy { $0.empty }, "a test saw another test's row")
        #expect(outcomes.filter { $0.fromPool }.count > 1, "only the one ready clone was popped: the later acquires created instead of taking those given back")
    }
}
