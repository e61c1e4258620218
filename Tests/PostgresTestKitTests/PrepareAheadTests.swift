import Foundation
import Testing
@testable import PostgresTestKit

/// Preparing before the tests start (what the Swift Testing trait does while the tests are
/// planned): with the template present it returns prepared; with a template to build it
/// returns as soon as that is known, the build going on beside; with a server that cannot be
/// reached it returns without an error, once, and the first acquire reports it.
@Suite("Preparing before the tests start")
struct PrepareAheadTests {
    /// A manager whose migration waits at `gate` (after firing `started`).
    static func gatedManager(_ prefix: String, fingerprint: String, started: ReadySignal, gate: ReadySignal) -> TestDatabaseManager {
        TestDatabaseManager(
            prefix: prefix,
            migrations: .closure(fingerprint: fingerprint) { context in
                started.fire()
                await gate.wait()
                try await context.connection.execute("CREATE TABLE prepared_ahead (id int)")
            },
            poolSize: 1, logger: TestSupport.logger)
    }

    @Test(.timeLimit(.minutes(1)))   // a preparation ahead that waited for the gated build would hang here
    func itDoesNotWaitForATemplateBuildAndReturnsPreparedWhenTheTemplateExists() async throws {
        let prefix = TestSupport.uniquePrefix("ahead")
        let fingerprint = "prepare-ahead-\(UUID())"
        let (started, gate) = (ReadySignal(), ReadySignal())
        let building = Self.gatedManager(prefix, fingerprint: fingerprint, started: started, gate: gate)
        await building.prepareAhead()   // returns although the migration cannot finish yet
        #expect(!gate.hasFired)
        #expect(await !building.prepared)
        await started.wait()            // the build went on after it returned
        gate.fire()
        let db = try await building.acquire(testName: "afterTheBuild")
        #expect(try await db.scalar("SELECT count(*) FROM prepared_ahead", as: Int.self) == 0)
        try await db.release()
        #expect(try await building.builtTemplate)
        await building.shutdown()

        // The clean twin: the template is there now; preparing ahead waits for the session.
        let reusing = Self.gatedManager(prefix, fingerprint: fingerprint, started: ReadySignal(), gate: ReadySignal())
        await reusing.prepareAhead()
        #expect(await reusing.prepared)
        #expect(try await !reusing.builtTemplate)
        await reusing.shutdown()
        let admin = try await TestSupport.admin()
        for database in try await admin.ownedDatabases(prefix: prefix) { _ = try? await admin.dropDatabase(database.name) }
        await admin.close()
    }

    @Test func aServerItCannotReachIsLeftToTheFirstAcquireToReport() async throws {
        let manager = TestDatabaseManager(
            server: .connectionString("postgresql://nobody@127.0.0.1:1/postgres?connect_timeout=2"),
            prefix: TestSupport.uniquePrefix("ahead"), migrations: .none, logger: TestSupport.logger)
        #expect(!manager.preparedAhead)
        await manager.prepareAhead()    // no error here: a planning step must not fail the run
        #expect(manager.preparedAhead, "the failed preparation is over: later calls return at once")
        #expect(await !manager.prepared)
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire(testName: "unreachable") }
        #expect(error?.code == .maintenanceDatabaseUnreachable)
    }
}
