import Foundation
import PostgresTestKit

extension Bench {
    /// The recycling rows: read-only tests back to back (a recycled clone per test), a burst
    /// of which half write, and the test-visible release with recycling on and off.
    func recycling(_ fixture: BenchFixture, bareConnect: Double, burstSize: Int) async throws -> [BenchFigure] {
        let section = fixture.name
        let n = iterations
        func manager(recycle: Bool) -> TestDatabaseManager {
            TestDatabaseManager(prefix: prefix, migrations: fixture.migrations, seeders: fixture.seeders,
                                audit: Bench.audit, poolSize: poolSize, recycle: recycle, logger: logger)
        }
        func pacedReleases(_ manager: TestDatabaseManager) async throws -> Samples {
            var releases = Samples()
            _ = try await waitForPool(manager)
            for _ in 0..<n {
                let db = try await manager.acquire(testName: "paced")
                _ = try await db.scalar("SELECT 1", as: Int.self)
                let t0 = clock.now
                try await db.release()
                releases.add(clock.now - t0)
                try await Task.sleep(for: pace)
            }
            return releases
        }

        let off = manager(recycle: false)
        let releaseOff: Samples
        do {
            try await off.prepare()
            releaseOff = try await pacedReleases(off)
            await off.shutdown()
        } catch {
            await off.shutdown()
            throw error
        }

        let on = manager(recycle: true)
        var figures: [BenchFigure] = []
        do {
            guard try await on.recyclesClones else {
                await on.shutdown()
                return [BenchFigure(section: section, name: "recycle: read-only trivial tests back to back, per test",
                                    note: "n/a: this server cannot vouch for clones (see the log line: no pg_walinspect, or no superuser)")]
            }
            let releaseOn = try await pacedReleases(on)
            await on.settleRecycling()

            // Read-only back to back: each test reads, so each clone comes back.
            _ = try await waitForPool(on)
            let before = await on.recycleVerdicts.count
            let started = clock.now
            for _ in 0..<n {
                let db = try await on.acquire(testName: "read-only")
                _ = try await db.scalar("SELECT 1", as: Int.self)
                try await db.release()
            }
            let perTest = (clock.now - started).milliseconds / Double(n)
            await on.settleRecycling()
            let readOnly = await on.recycleVerdicts.dropFirst(before)
            let recycled = readOnly.filter { $0.recycledAs != nil }.count

            // A burst of which every other test writes (a temporary table: DDL, in any schema).
            _ = try await waitForPool(on)
            let burstBefore = await on.recycleVerdicts.count
            let burstStarted = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<burstSize {
                    group.addTask {
                        let db = try await on.acquire(testName: "burst")
                        if index % 2 == 0 {
                            _ = try await db.simpleQuery("CREATE TEMP TABLE written (x int)")
                        } else {
                            _ = try await db.scalar("SELECT 1", as: Int.self)
                        }
                        try await db.release()
                    }
                }
                try await group.waitForAll()
            }
            await on.settleRecycling()
            await on.waitForDrops()
            let burst = (clock.now - burstStarted).milliseconds
            let burstVerdicts = await on.recycleVerdicts.dropFirst(burstBefore)
            let burstRecycled = burstVerdicts.filter { $0.recycledAs != nil }.count
            await on.shutdown()

            figures = [
                BenchFigure(section: section, name: "recycle: read-only trivial tests back to back, per test", value: perTest,
                            floorName: "bare connect p50", floor: bareConnect, target: "<= 1.5x bare connect",
                            pass: perTest <= 1.5 * bareConnect, note: "\(recycled)/\(n) recycled"),
                BenchFigure(section: section, name: "recycle: 50% read-only burst of \(burstSize), total", value: burst,
                            note: "\(burstRecycled)/\(burstSize) recycled (the \(burstSize / 2) writers dropped), drops included"),
                BenchFigure(section: section, name: "recycle: test-visible release p50, recycling on", value: releaseOn.p50,
                            floorName: "release p50, recycling off", floor: releaseOff.p50,
                            target: "no slower than off (<= 1.25x, noise)", pass: releaseOn.p50 <= 1.25 * releaseOff.p50,
                            note: "p95 on \(String(format: "%.2f", releaseOn.p95)) ms, off \(String(format: "%.2f", releaseOff.p95)) ms"),
            ]
        } catch {
            await on.shutdown()
            throw error
        }
        return figures
    }
}
