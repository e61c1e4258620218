import ArgumentParser
import Foundation
import Logging
import NotificationsFixture
import PostgresTestKit

/// The measurements themselves, on one server and one admin connection.
struct Bench: Sendable {
    let server: ConnectionString
    let admin: AdminConnection
    let runID: RunID
    let prefix: String
    let iterations: Int
    let poolSize: Int
    let logger: Logger
    let clock = ContinuousClock()
    let pace = Duration.milliseconds(20)
    /// The rows added to a template for the large-template reset figure, in MB.
    let ballastMB: Int
    /// The bench's managers report findings without failing: it measures speed, and a
    /// 420 MB template written through the WAL outruns what the run audit can read (a
    /// `wal_not_audited` finding that would fail a run under `CI=true`).
    static let audit: AuditPolicy = .warn
    var applicationName: String { "pgtestkit-bench:\(runID)" }

    struct FloorResult {
        var strategy: CloneStrategy?
        var create = Samples()
        var connect = Samples()
        var drop = Samples()
        var cycle = Samples()
    }

    struct FixtureResult {
        var figures: [BenchFigure] = []
        var templates: [String] = []
    }

    /// Connect + `SELECT 1` + close to `postgres`, after two warm-up rounds.
    func bareConnect() async throws -> Samples {
        var samples = Samples()
        for round in 0..<(iterations + 2) {
            let started = clock.now
            let connection = try await Connection.connect(to: server, database: "postgres", applicationName: applicationName, logger: logger)
            _ = try await connection.execute("SELECT 1")
            await connection.close()
            if round >= 2 { samples.add(clock.now - started) }
        }
        return samples
    }

    /// The raw floor on a template with one clone strategy: create, connect + `SELECT 1`, drop.
    func floor(template: String, strategy: CloneStrategy?, tag: String) async throws -> FloorResult {
        var result = FloorResult(strategy: strategy)
        for round in 0..<(iterations + 1) {
            let name = "\(prefix)_floor_\(tag)_\(round)"
            let t0 = clock.now
            try await admin.createDatabase(name, template: template, strategy: strategy,
                                           marker: OwnerMarker(kind: .clone, run: runID, test: "bench-floor"))
            let t1 = clock.now
            let connection = try await Connection.connect(to: server, database: name, applicationName: applicationName, logger: logger)
            _ = try await connection.execute("SELECT 1")
            await connection.close()
            let t2 = clock.now
            try await admin.dropDatabase(name)
            let t3 = clock.now
            guard round >= 1 else { continue }   // the first round warms up
            result.create.add(t1 - t0)
            result.connect.add(t2 - t1)
            result.drop.add(t3 - t2)
            result.cycle.add(t3 - t0)
        }
        return result
    }

    /// What the hook guard adds to running one connect hook: the same statements the guard
    /// sends around a hook in `.fail` (read-only session) and `.warn` (transaction + xid check)
    /// mode, against the hook alone, on one open connection.
    func hookGuardOverhead() async throws -> (bare: Double, fail: Double, warn: Double) {
        let connection = try await Connection.connect(to: server, database: "postgres", logger: logger)
        var bare = Samples(), fail = Samples(), warn = Samples()
        for _ in 0..<max(iterations, 20) {
            var t0 = clock.now
            try await connection.simpleQuery("SET TIME ZONE 'UTC'")
            bare.add(clock.now - t0)
            t0 = clock.now
            try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            try await connection.simpleQuery("SET TIME ZONE 'UTC'")
            try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            fail.add(clock.now - t0)
            t0 = clock.now
            try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            try await connection.execute("BEGIN")
            try await connection.simpleQuery("SET TIME ZONE 'UTC'")
            _ = try await connection.scalar("SELECT pg_current_xact_id_if_assigned() IS NOT NULL", as: Bool.self)
            try await connection.execute("COMMIT")
            warn.add(clock.now - t0)
        }
        await connection.close()
        return (bare.p50, fail.p50, warn.p50)
    }

    /// Runs `body` with a manager and always shuts it down.
    func withManager<T: Sendable>(
        _ fixture: BenchFixture, poolSize: Int, _ body: (TestDatabaseManager) async throws -> T
    ) async throws -> T {
        let manager = TestDatabaseManager(
            prefix: prefix, migrations: fixture.migrations, seeders: fixture.seeders,
            audit: Bench.audit, poolSize: poolSize, logger: logger)
        do {
            let value = try await body(manager)
            await manager.shutdown()
            return value
        } catch {
            await manager.shutdown()
            throw error
        }
    }

    /// Waits until the manager's pool is full; returns the names of its ready clones (spares
    /// carry a marker without a test).
    func waitForPool(_ manager: TestDatabaseManager, timeout: Duration = .seconds(20)) async throws -> [String] {
        do {
            try await manager.waitForPool(timeout: timeout)
        } catch {
            print("note: \(error)")
        }
        return try await admin.ownedDatabases(prefix: prefix)
            .filter { $0.marker.kind == .clone && $0.marker.test == nil && $0.marker.run == manager.runID.rawValue }
            .map(\.name)
    }

    /// `n` acquire → release cycles over `tasks` concurrent tasks, with no test work, then
    /// waits for the background drops. Returns the total time and how many came from the pool.
    func backToBack(_ manager: TestDatabaseManager, tasks: Int) async throws -> (total: Duration, fromPool: Int) {
        let n = iterations
        let started = clock.now
        let pooled = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                let share = n / tasks + (task < n % tasks ? 1 : 0)
                group.addTask {
                    var fromPool = 0
                    for _ in 0..<share {
                        let db = try await manager.acquire(testName: "b2b")
                        try await db.release()
                        if db.fromPool { fromPool += 1 }
                    }
                    return fromPool
                }
            }
            return try await group.reduce(0, +)
        }
        await manager.waitForDrops()
        return (clock.now - started, pooled)
    }

    static func residentMB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, let kilobytes = Double(fields[1]) { return kilobytes / 1024 }
        }
        return nil
    }

    func measure(_ fixture: BenchFixture, bareConnect: Double) async throws -> FixtureResult {
        var out = FixtureResult()
        let section = fixture.name
        let n = iterations

        // 4. Template build (unique prefix: really builds), then reuse by a second manager.
        let build = try await withManager(fixture, poolSize: 0) { manager in
            let elapsed = try await clock.measure { try await manager.prepare() }
            return (elapsed, try await manager.builtTemplate, try await manager.templateName)
        }
        guard let template = build.2 else {
            throw ValidationError("the \(fixture.name) manager has no template")
        }
        out.templates.append(template)
        let reuse = try await withManager(fixture, poolSize: 0) { manager in
            let elapsed = try await clock.measure { try await manager.prepare() }
            return (elapsed, try await manager.builtTemplate, try await manager.templateName)
        }
        if let name = reuse.2 { out.templates.append(name) }
        print("   template \(template): first prepare \(build.1 ? "built" : "REUSED (expected a build)"), second \(reuse.1 ? "BUILT again" : "reused")")

        // 1. The floor, for each clone strategy the server has; the fastest cycle is the floor.
        let strategies: [CloneStrategy?] = admin.serverMajorVersion >= 15 ? CloneStrategy.allCases.map { $0 } : [nil]
        var floors: [FloorResult] = []
        for strategy in strategies {
            floors.append(try await floor(template: template, strategy: strategy, tag: strategy.map { $0 == .walLog ? "w" : "f" } ?? "d"))
        }
        let best = floors.min { $0.cycle.p50 < $1.cycle.p50 }!
        let strategyName = best.strategy?.rawValue ?? "server default"
        let cycleFloor = best.cycle.p50
        print("   floor (\(strategyName)): create \(String(format: "%.2f", best.create.p50)) ms, connect \(String(format: "%.2f", best.connect.p50)) ms, drop \(String(format: "%.2f", best.drop.p50)) ms")

        // 5. Memory: before and after a manager with a warm pool; server size of one clone.
        let rssBefore = Self.residentMB()
        let pooledManager = TestDatabaseManager(
            prefix: prefix, migrations: fixture.migrations, seeders: fixture.seeders,
            audit: Bench.audit, poolSize: poolSize, logger: logger)
        var paced = (acquire: Samples(), release: Samples(), both: Samples(), fromPool: 0)
        var withBody = paced
        var transactions = Samples()
        var runs: [(tasks: Int, total: Duration, fromPool: Int)] = []
        var rssAfter: Double?
        var cloneBytes: Int64?
        do {
            try await pooledManager.prepare()
            let pooled = try await waitForPool(pooledManager)
            rssAfter = Self.residentMB()
            if let clone = pooled.first {
                cloneBytes = try await admin.query("SELECT pg_database_size($1)", clone).rows.first?.decode(Int64.self, at: 0)
            }

            // 3. Paced like real tests: acquire, release, ~20 ms of "test" so the pool refills.
            for _ in 0..<n {
                let t0 = clock.now
                let db = try await pooledManager.acquire(testName: "paced")
                let t1 = clock.now
                try await db.release()
                let t2 = clock.now
                paced.acquire.add(t1 - t0)
                paced.release.add(t2 - t1)
                paced.both.add(t2 - t0)
                if db.fromPool { paced.fromPool += 1 }
                try await Task.sleep(for: pace)
            }
            await pooledManager.waitForDrops()

            // The same with a 20 ms test body between acquire and release, so the release does
            // not overlap the pool's refill that the acquire started.
            _ = try await waitForPool(pooledManager)
            for _ in 0..<n {
                let t0 = clock.now
                let db = try await pooledManager.acquire(testName: "body")
                let t1 = clock.now
                try await Task.sleep(for: pace)
                let t2 = clock.now
                try await db.release()
                let t3 = clock.now
                withBody.acquire.add(t1 - t0)
                withBody.release.add(t3 - t2)
                withBody.both.add((t1 - t0) + (t3 - t2))
                if db.fromPool { withBody.fromPool += 1 }
                try await Task.sleep(for: pace)
            }
            await pooledManager.waitForDrops()

            // Back-to-back throughput, 1, 2 and 4 tasks, each starting with a full pool.
            for tasks in [1, 2, 4] {
                _ = try await waitForPool(pooledManager)
                let run = try await backToBack(pooledManager, tasks: tasks)
                runs.append((tasks, run.total, run.fromPool))
            }
            // Transaction mode: one shared clone, a rolled-back transaction per test.
            _ = try await pooledManager.acquire(testName: "warm", isolation: .transaction).release()
            for _ in 0..<n {
                let t0 = clock.now
                let db = try await pooledManager.acquire(testName: "txn", isolation: .transaction)
                try await db.release()
                transactions.add(clock.now - t0)
            }
            await pooledManager.shutdown()
        } catch {
            await pooledManager.shutdown()
            throw error
        }

        // A burst: 32 tests at once on a cold pool, then the first test of a fresh process.
        let burstSize = 32
        let cores = ProcessInfo.processInfo.activeProcessorCount   // the server runs on this machine
        let burst = try await burst(fixture, size: burstSize)
        let first = try await firstTest(fixture)
        let suite = try await suiteBurst(fixture, size: 24)
        let recycled = try await recycling(fixture, bareConnect: bareConnect, burstSize: burstSize)
        let cycleName = "floor create+connect+drop p50 (\(strategyName))"
        let reset = try await resetting(fixture, cycleFloor: cycleFloor, cycleName: cycleName, ballastMB: ballastMB)

        // The table's rows for this fixture.
        func row(_ name: String, _ value: Double, floorName: String? = nil, floor: Double? = nil,
                 target: String? = nil, limit: Double? = nil, note: String? = nil) -> BenchFigure {
            var pass: Bool?
            if let limit, let floor { pass = value <= limit * floor }
            return BenchFigure(section: section, name: name, unit: "ms", value: value, floorName: floorName, floor: floor,
                               target: target, pass: pass, note: note)
        }
        out.figures.append(BenchFigure(
            section: section, name: "transaction mode acquire+release p50", value: transactions.p50,
            target: "<= 1 ms per test", pass: transactions.p50 <= 1.0, note: "p95 \(String(format: "%.2f", transactions.p95)) ms"))
        out.figures += [
            row("floor CREATE DATABASE TEMPLATE p50", best.create.p50, note: strategyName),
            row("floor connect + SELECT 1 + close p50", best.connect.p50),
            row("floor DROP DATABASE p50", best.drop.p50),
            row("floor create+connect+drop cycle p50", cycleFloor, note: strategyName),
        ]
        for other in floors where other.strategy != best.strategy {
            out.figures.append(row("floor cycle p50 with \(other.strategy?.rawValue ?? "default")", other.cycle.p50,
                                   floorName: cycleName, floor: cycleFloor))
        }
        out.figures += [
            BenchFigure(section: section, name: "template build (first run, prepare())", unit: "ms",
                        value: build.0.milliseconds, target: "builtTemplate == true", pass: build.1),
            BenchFigure(section: section, name: "template reuse (second run, prepare())", unit: "ms",
                        value: reuse.0.milliseconds, target: "no migrating (builtTemplate == false)", pass: !reuse.1),
            row("warm pool acquire p50", paced.acquire.p50, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool acquire p95", paced.acquire.p95, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool acquire p99", paced.acquire.p99, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool release p50 (test-visible)", paced.release.p50, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool release p95", paced.release.p95, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool release p99", paced.release.p99, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool acquire+release p50", paced.both.p50, floorName: "bare connect p50", floor: bareConnect,
                target: "<= 1.5x bare connect", limit: 1.5, note: "\(paced.fromPool)/\(n) from pool"),
            row("warm pool acquire+release p95", paced.both.p95, floorName: "bare connect p50", floor: bareConnect),
            row("warm pool acquire+release p99", paced.both.p99, floorName: "bare connect p50", floor: bareConnect),
            row("with 20 ms test body: acquire p50", withBody.acquire.p50, floorName: "bare connect p50", floor: bareConnect),
            row("with 20 ms test body: release p50", withBody.release.p50, floorName: "bare connect p50", floor: bareConnect),
            row("with 20 ms test body: acquire+release p50", withBody.both.p50, floorName: "bare connect p50", floor: bareConnect,
                note: "\(withBody.fromPool)/\(n) from pool"),
            row("with 20 ms test body: acquire+release p95", withBody.both.p95, floorName: "bare connect p50", floor: bareConnect),
        ]
        let burstFloor = Double(burstSize) * cycleFloor / Double(min(burstSize, cores))
        out.figures += [
            row("burst: \(burstSize) parallel acquire+release, cold pool", burst.total.milliseconds,
                floorName: "\(burstSize) x floor cycle / min(\(burstSize), \(cores) cores)", floor: burstFloor,
                target: "<= 1.3x floor", limit: 1.3, note: "\(burst.fromPool)/\(burstSize) from pool, drops included"),
            row("time to first test, cold process, template present (median of 5)", first.templatePresent, floorName: cycleName, floor: cycleFloor,
                target: "<= 2x floor cycle", limit: 2, note: "pgtestkit prepare --acquire 1, from its start; median of 5 processes"),
            row("time to first test, cold process, template built", first.withBuild, floorName: cycleName, floor: cycleFloor),
        ]
        for (index, run) in suite.enumerated() {
            let which = index == 0 ? "first process, no ready clones" : "second process, adopting"
            out.figures.append(row("suite: 24 tests at once, \(which): set-up vs in tests (summed)", run.setUp,
                                   floorName: "in tests (summed)", floor: run.inTests,
                                   target: index == 0 ? nil : "<= 1x", limit: index == 0 ? nil : 1,
                                   note: "\(run.fromPool)/24 from the pool"))
        }
        for run in runs {
            let label = run.tasks == 1 ? "back-to-back" : "back-to-back, \(run.tasks) tasks"
            out.figures.append(row("\(label): total for \(n) (incl. waitForDrops)", run.total.milliseconds))
            out.figures.append(row("\(label): per test", run.total.milliseconds / Double(n), floorName: cycleName, floor: cycleFloor,
                                   target: run.tasks == 1 ? "<= 1.2x floor cycle" : nil, limit: run.tasks == 1 ? 1.2 : nil,
                                   note: "\(run.fromPool)/\(n) from pool"))
        }
        out.figures += recycled + reset
        if let rssBefore, let rssAfter {
            let delta = rssAfter - rssBefore
            out.figures += [
                BenchFigure(section: section, name: "RSS before manager", unit: "MB", value: rssBefore),
                BenchFigure(section: section, name: "RSS with warm pool (\(poolSize) clones)", unit: "MB", value: rssAfter),
                BenchFigure(section: section, name: "RSS added by manager + warm pool", unit: "MB", value: delta,
                            target: "<= 10 MB", pass: delta <= 10),
            ]
        } else {
            out.figures.append(BenchFigure(section: section, name: "RSS added by manager + warm pool", unit: "MB",
                                           note: "n/a (no /proc/self/status)"))
        }
        if let cloneBytes {
            out.figures.append(BenchFigure(section: section, name: "server size per pooled clone", unit: "MB",
                                           value: Double(cloneBytes) / 1_048_576, note: "pg_database_size"))
        }
        return out
    }
}
