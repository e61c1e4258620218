import Foundation
import PostgresTestKit

extension Bench {
    /// `size` tests starting at once — what a Swift Testing suite does — on a manager whose
    /// pool is cold (template present, just prepared): every acquire+release, drops included.
    func burst(_ fixture: BenchFixture, size: Int) async throws -> (total: Duration, fromPool: Int) {
        let manager = TestDatabaseManager(prefix: prefix, migrations: fixture.migrations, seeders: fixture.seeders,
                                          audit: Bench.audit, poolSize: poolSize, logger: logger)
        do {
            try await manager.prepare()
            let started = clock.now
            let fromPool = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<size {
                    group.addTask {
                        let db = try await manager.acquire(testName: "burst")
                        try await db.release()
                        return db.fromPool ? 1 : 0
                    }
                }
                return try await group.reduce(0, +)
            }
            await manager.waitForDrops()
            let total = clock.now - started
            await manager.shutdown()
            return (total, fromPool)
        } catch {
            await manager.shutdown()
            throw error
        }
    }

    /// Time to the first test database in a fresh `pgtestkit prepare --acquire 1` process, as
    /// that process measured it from its command's start: once building the template (a new
    /// prefix), then with the template present (the same prefix again) in five processes, whose
    /// median is compared with the floor's (a single process's figure moved by ±30 %). Returns
    /// both, in ms.
    func firstTest(_ fixture: BenchFixture) async throws -> (withBuild: Double, templatePresent: Double) {
        let executable = CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let subprefix = prefix + "c"
        func run() async throws -> Double {
            let output = try await Subprocess.run(executable, ["prepare", "--prefix", subprefix, "--acquire", "1"] + fixture.prepareArguments)
            let marker = "first test database after "
            guard output.succeeded,
                  let line = output.output.split(separator: "\n").first(where: { $0.hasPrefix(marker) }),
                  let ms = Double(line.dropFirst(marker.count).split(separator: " ").first ?? "") else {
                throw TestKitError(.subprocessFailed, "pgtestkit prepare did not report its first test: \(output.output)")
            }
            return ms
        }
        func dropTheirTemplate() async {   // the subprocesses' template, under their own prefix
            for database in (try? await admin.ownedDatabases(prefix: subprefix)) ?? [] { _ = try? await admin.dropDatabase(database.name) }
        }
        do {
            let withBuild = try await run()
            var runs: [Double] = []
            for _ in 0..<5 { runs.append(try await run()) }
            let present = runs.sorted()[runs.count / 2]
            await dropTheirTemplate()
            return (withBuild, present)
        } catch {
            await dropTheirTemplate()
            throw error
        }
    }
}

extension Bench {
    /// `size` tests starting at once in a fresh test process (`pgtestkit prepare --burst`),
    /// which exits as a test process does, leaving its ready clones; then the same in a second
    /// process, which adopts them. Returns both lines' figures: from the pool, set-up and test
    /// time summed.
    func suiteBurst(_ fixture: BenchFixture, size: Int) async throws -> [(fromPool: Int, setUp: Double, inTests: Double)] {
        let executable = CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let subprefix = prefix + "s"
        func dropTheirs() async {
            for database in (try? await admin.ownedDatabases(prefix: subprefix)) ?? [] { _ = try? await admin.dropDatabase(database.name) }
        }
        var runs: [(Int, Double, Double)] = []
        do {
            runs = try await twoProcesses(executable, subprefix, fixture, size: size)
        } catch {
            await dropTheirs()
            throw error
        }
        await dropTheirs()
        return runs
    }

    private func twoProcesses(_ executable: String, _ subprefix: String, _ fixture: BenchFixture, size: Int) async throws -> [(fromPool: Int, setUp: Double, inTests: Double)] {
        var runs: [(Int, Double, Double)] = []
        for _ in 0..<2 {
            let output = try await Subprocess.run(executable, ["prepare", "--prefix", subprefix, "--burst", "\(size)"] + fixture.prepareArguments)
            guard output.succeeded, let line = output.output.split(separator: "\n").first(where: { $0.hasPrefix("burst: ") }) else {
                throw TestKitError(.subprocessFailed, "pgtestkit prepare --burst did not report: \(output.output)")
            }
            let numbers = line.split(whereSeparator: { !$0.isNumber && $0 != "." }).compactMap { Double($0) }
            guard numbers.count >= 4 else { throw TestKitError(.subprocessFailed, "unreadable burst line: \(line)") }
            runs.append((Int(numbers[0]), numbers[2], numbers[3]))
        }
        return runs
    }
}
