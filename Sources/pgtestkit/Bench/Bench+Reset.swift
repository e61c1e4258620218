import Foundation
import PostgresTestKit

extension Bench {
    /// Two tables the writing tests write into, empty in the template (a template seeder
    /// adds them beside the fixture's schema, so the same figures work for `--migrations`).
    static let resetTables = Seeders.closure(identity: "bench-reset-tables", version: "1") { context in
        try await context.connection.simpleQuery("""
            CREATE TABLE bench_reset_parents (id bigserial PRIMARY KEY, body text NOT NULL);
            CREATE TABLE bench_reset_children (id bigserial PRIMARY KEY, parent_id bigint NOT NULL REFERENCES bench_reset_parents, n int NOT NULL);
            """)
    }

    /// A table of about `megabytes` MB of rows the tests never touch (about 1 kB a row).
    static func ballast(megabytes: Int) -> any Seeder {
        Seeders.closure(identity: "bench-ballast", version: "\(megabytes)") { context in
            try await context.connection.simpleQuery("""
                CREATE TABLE bench_ballast (id int PRIMARY KEY, body text NOT NULL);
                INSERT INTO bench_ballast SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, \(megabytes * 1000)) g;
                """)
        }
    }

    /// What each writing test does: rows into both tables, an update of one.
    static let writingTest = """
        WITH parent AS (INSERT INTO bench_reset_parents (body) VALUES ('a'), ('b') RETURNING id)
        INSERT INTO bench_reset_children (parent_id, n) SELECT id, 1 FROM parent;
        UPDATE bench_reset_children SET n = n + 1;
        """

    /// Writing tests back to back, each on a clone reset after the one before: per test, the
    /// resets (and any drop) included. Returns the figure, or why it does not apply.
    func writingTestsBackToBack(_ fixture: BenchFixture, extraSeeders: [any Seeder] = []) async throws -> (perTest: Double, reset: Int, size: Double)? {
        let manager = TestDatabaseManager(prefix: prefix, migrations: fixture.migrations,
                                          seeders: fixture.seeders + [Self.resetTables] + extraSeeders,
                                          audit: Bench.audit, poolSize: poolSize, logger: logger)
        do {
            try await manager.prepare()
            guard try await manager.recyclesClones else {
                await manager.shutdown()
                return nil
            }
            let pooled = try await waitForPool(manager)
            var size: Int64 = 0
            if let clone = pooled.first {
                size = try await admin.query("SELECT pg_database_size($1)", clone).rows.first?.decode(Int64.self, at: 0) ?? 0
            }
            // One round to warm up (the first clones are fresh), then the measured ones.
            for _ in 0..<poolSize {
                let db = try await manager.acquire(testName: "writing-warm-up")
                _ = try await db.simpleQuery(Self.writingTest)
                try await db.release()
            }
            await manager.settleRecycling()
            // A warm-up clone dropped (on a stock server, autovacuum's analyze of a shared
            // catalog writes statistics into whichever database its worker is in: a fresh clone
            // too) is made anew before the measured tests, not beside them: for the large
            // template, 431 MB copied on the same disk. The figure is the steady state's.
            _ = try await waitForPool(manager)
            await manager.waitForDrops()
            let before = await manager.recycleVerdicts.count
            let started = clock.now
            for _ in 0..<iterations {
                let db = try await manager.acquire(testName: "writing")
                _ = try await db.simpleQuery(Self.writingTest)
                try await db.release()
            }
            await manager.settleRecycling()
            await manager.waitForDrops()
            let perTest = (clock.now - started).milliseconds / Double(iterations)
            let reset = await manager.recycleVerdicts.dropFirst(before).filter { $0.reset != nil }.count
            await manager.shutdown()
            return (perTest, reset, Double(size) / 1_048_576)
        } catch {
            await manager.shutdown()
            throw error
        }
    }

    /// The reset rows: writing tests back to back at the fixture's size, against the floor
    /// cycle; and with the template grown by `ballastMB` of rows the tests never touch,
    /// against the same tests at the fixture's size.
    func resetting(_ fixture: BenchFixture, cycleFloor: Double, cycleName: String, ballastMB: Int) async throws -> [BenchFigure] {
        let section = fixture.name
        guard let small = try await writingTestsBackToBack(fixture) else {
            return [BenchFigure(section: section, name: "reset: writing tests back to back, per test",
                                note: "n/a: this server cannot vouch for clones (no pg_walinspect, or no superuser): writing tests' clones are dropped")]
        }
        // The target is the server's: 0.5x where fsync is off (the embedded server), 0.25x on a
        // stock one, whose creates and drops wait for the disk.
        let fsync = (try? await admin.query("SELECT current_setting('fsync')").rows.first?.decode(String.self, at: 0)) ?? "on"
        let limit = fsync == "off" ? 0.5 : 0.25
        var figures = [
            BenchFigure(section: section, name: "reset: writing tests back to back, per test", value: small.perTest,
                        floorName: cycleName, floor: cycleFloor, target: "<= \(limit)x floor cycle (fsync \(fsync))",
                        pass: small.perTest <= limit * cycleFloor,
                        note: "\(small.reset)/\(iterations) reset; template \(String(format: "%.0f", small.size)) MB"),
        ]
        if let large = try await writingTestsBackToBack(fixture, extraSeeders: [Self.ballast(megabytes: ballastMB)]) {
            figures.append(BenchFigure(
                section: section, name: "reset: writing tests, large template, per test", value: large.perTest,
                floorName: "the same at the fixture's size", floor: small.perTest, target: "<= 1.3x",
                pass: large.perTest <= 1.3 * small.perTest,
                note: "\(large.reset)/\(iterations) reset; template \(String(format: "%.0f", large.size)) MB"))
        }
        return figures
    }
}
