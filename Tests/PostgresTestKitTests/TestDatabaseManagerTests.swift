import Foundation
import Synchronization
import Testing
@testable import PostgresTestKit

@Suite("TestDatabaseManager: one database per test")
struct TestDatabaseManagerTests {
    @Test func acquiresAnEmptyDatabaseAndDropsItOnRelease() async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "acquiresAnEmptyDatabase")
        #expect(db.name.hasSuffix("_acquiresanemptydatabase"))
        #expect(db.name.hasPrefix(manager.prefix + "_" + manager.runID.rawValue))
        try await db.execute("CREATE TABLE t (x int)")
        try await db.execute("INSERT INTO t VALUES ($1)", 5)
        #expect(try await db.scalar("SELECT sum(x) FROM t", as: Int.self) == 5)
        #expect(db.phases.current == .ready)
        try await db.release()
        await manager.waitForDrops()
        #expect(db.phases.current == .dropped)
        let admin = try await TestSupport.admin()
        #expect(try await admin.exists(db.name) == false)
        await admin.close()
        await manager.shutdown()
    }

    @Test func twentyParallelAcquiresGetTwentyIsolatedDatabases() async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), logger: TestSupport.logger)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<20 {
                group.addTask {
                    let db = try await manager.acquire(testName: "parallel\(i)")
                    try await db.execute("CREATE TABLE mine (n int)")
                    try await db.execute("INSERT INTO mine VALUES ($1)", i)
                    let seen = try await db.scalar("SELECT array_agg(n)::text FROM mine", as: String.self)
                    #expect(seen == "{\(i)}")
                    try await db.release()
                    return db.name
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(names.count == 20)
        await manager.waitForDrops()
        let admin = try await TestSupport.admin()
        #expect(try await admin.ownedDatabases(prefix: manager.prefix).isEmpty)
        await admin.close()
        await manager.shutdown()
    }

    @Test func aWarmPoolHandsOutConnectedClonesAndMarksThemWithTheTest() async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(), migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
            connectHooks: [.sql("SET TIME ZONE 'UTC'")], poolSize: 2, logger: TestSupport.logger)
        try await manager.prepare()
        try await manager.waitForPool()
        let db = try await manager.acquire(testName: "fromThePool")
        #expect(db.fromPool)
        #expect(try await db.scalar("SELECT current_setting('TimeZone')", as: String.self) == "UTC")   // hooks ran ahead
        let admin = try await TestSupport.admin()
        var marker: OwnerMarker?
        for _ in 0..<200 {
            marker = try await admin.marker(of: db.name)
            if marker?.test == "fromThePool" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(marker?.test == "fromThePool")
        #expect(marker?.run == manager.runID.rawValue)
        try await db.release()
        await manager.shutdown()
        #expect(try await admin.ownedDatabases(prefix: manager.prefix).allSatisfy { $0.marker.kind == .template })
        for template in try await admin.ownedDatabases(prefix: manager.prefix) { try await admin.dropDatabase(template.name) }
        await admin.close()
    }

    @Test func theURLWorksForAnAppsOwnClient() async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "url")
        let app = try await Connection.connect(to: ConnectionString(db.url))
        #expect(await app.database == db.name)
        let viaKeywords = try await Connection.connect(to: db.connectionString)
        #expect(await viaKeywords.database == db.name)
        await app.close()
        await viaKeywords.close()
        try await db.release()
        await manager.shutdown()
    }

    @Test func aLeakedConnectionIsReportedAtRelease() async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), audit: .fail, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "leaks")
        let leaked = try await Connection.connect(to: db.connectionString, applicationName: "my-app-pool")
        try await leaked.execute("SELECT 42")
        let error = await #expect(throws: TestKitError.self) { try await db.release() }
        #expect(error?.code == .lifecycleViolation)
        let finding = try #require(manager.violations.first)
        #expect(finding.kind == .leakedSession)
        #expect(finding.applicationName == "my-app-pool")
        #expect(finding.statement == "SELECT 42")
        await manager.waitForDrops()
        #expect(db.phases.current == .dropped)   // dropped anyway, after the finding
        await manager.shutdown()
    }

    /// The scoped form releases its database whatever the body does; a body that throws
    /// releases it as a failed test's (kept under keep: .failed) and its error comes through.
    @Test func withTestDatabaseReleasesAfterTheBodyAndKeepsAFailedOne() async throws {
        struct Failure: Error {}
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), keep: .failed, poolSize: 0, logger: TestSupport.logger)
        let passed = try await manager.withTestDatabase(testName: "scoped") { db in db.name }
        let failed = Mutex<String?>(nil)
        await #expect(throws: Failure.self) {
            try await manager.withTestDatabase(testName: "scopedfails") { db in
                failed.withLock { $0 = db.name }
                throw Failure()
            }
        }
        await manager.waitForDrops()
        let admin = try await TestSupport.admin()
        #expect(try await admin.exists(passed) == false)
        let kept = try #require(failed.withLock { $0 })
        #expect(try await admin.marker(of: kept)?.kept == true)
        _ = try await admin.waitForNoSessions(on: kept)
        try await admin.dropDatabase(kept)
        await admin.close()
        await manager.shutdown()
    }

    @Test(arguments: [0, 2])
    func keepOnFailureKeepsExactlyTheFailedTestsDatabase(poolSize: Int) async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
            keep: .failed, poolSize: poolSize, logger: TestSupport.logger)
        try await manager.prepare()
        if poolSize > 0 { try await manager.waitForPool() }   // a pooled clone: its marker is written late
        let passed = try await manager.acquire(testName: "passes")
        let failed = try await manager.acquire(testName: "fails")
        try await passed.release(testFailed: false)
        try await failed.release(testFailed: true)
        await manager.waitForDrops()
        let admin = try await TestSupport.admin()
        let left = try await admin.ownedDatabases(prefix: manager.prefix).filter { $0.marker.kind == .clone && $0.marker.test != nil }   // not the pool's spares
        #expect(left.map(\.name) == [failed.name])
        #expect(left.first?.marker.kept == true)
        #expect(left.first?.marker.test == "fails")
        #expect(failed.phases.current == .kept, "a kept database's history ends in kept, not dropped")
        let line = try #require(RunReport.shared.snapshot.kept.first { $0.hasPrefix(failed.name) && $0.contains("psql '") })
        // The printed line connects as it stands (no masked password in it).
        let command = String(line[line.range(of: "psql '")!.lowerBound...].prefix { $0 != "(" }).trimmed
        #expect(!command.contains(Redaction.mask))
        let psql = try await Subprocess.run("/bin/sh", ["-c", command.replacingAll("psql ", with: "psql -XtA -c 'SELECT current_database()' ")])
        #expect(psql.output.trimmed == failed.name, "\(command): \(psql.output)")
        // A later run's reaper lists it and leaves it unless asked.
        let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: manager.prefix, grace: .zero)
        #expect(report.keptSkipped == [failed.name])
        // psql's backend may outlive psql for a moment, and the reaper never drops from under a session.
        _ = try await admin.waitForNoSessions(on: failed.name, timeout: .seconds(5))
        let forced = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: manager.prefix, grace: .zero, includeKept: true)
        #expect(forced.dropped == [failed.name])
        await manager.shutdown()
        for template in try await admin.ownedDatabases(prefix: manager.prefix) { try await admin.dropDatabase(template.name) }
        await admin.close()
    }

    @Test func anInvalidPrefixIsAClearError() async throws {
        let manager = TestDatabaseManager(prefix: "Bad-Prefix;", logger: TestSupport.logger)
        let error = await #expect(throws: TestKitError.self) { try await manager.acquire() }
        #expect(error?.code == .invalidName)
        #expect(error?.message.contains("PGTESTKIT_PREFIX") == true)
    }

    @Test func aNonLocalHostIsRefused() {
        let error = #expect(throws: TestKitError.self) {
            try HostAllowList(extraHosts: []).check("db.prod.example.com", source: "DATABASE_URL")
        }
        #expect(error?.code == .hostNotAllowed)
        #expect(error?.message.contains("PGTESTKIT_ALLOWED_HOSTS=db.prod.example.com") == true)
        #expect(throws: Never.self) { try HostAllowList(extraHosts: []).check("/tmp,localhost,127.0.0.1", source: "x") }
        #expect(throws: Never.self) { try HostAllowList(extraHosts: ["ci-db"]).check("ci-db", source: "x") }
    }
}
