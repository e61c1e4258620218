import ArgumentParser
import Foundation
import PostgresTestKit

/// Builds or reuses the template of a migrations directory and says which: used by the
/// multi-process tests and handy in CI to warm the template before the tests start.
struct PrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Build (or reuse) the template for a migrations directory; prints 'built' or 'reused'.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "The directory of *.sql migrations.")
    var migrations: String?
    @Flag(help: "Use this executable's own Swift-code migration (no fingerprint: keyed by the executable's identity).")
    var swiftMigrations = false
    @Option(help: "SQL seed files run after the migrations, in order.")
    var seed: [String] = []
    @Option(help: "Database name prefix.")
    var prefix: String?
    @Option(help: "Also acquire this many test databases and print their names.")
    var acquire = 0
    @Option(help: "Then wait this many seconds before releasing (for crash tests).")
    var holdSeconds = 0
    @Option(help: "Stop waiting as soon as this file exists (with --hold-seconds as the longest wait).")
    var holdUntil: String?
    @Option(help: "Then run this many read-only tests back to back (acquire, one SELECT, release) and print the time per test (scripts/compare-pytest-postgresql).")
    var readOnlyTests = 0
    @Option(help: "The query each read-only test runs.")
    var query = "SELECT 1"
    @Option(help: "Then run this many writing tests back to back (acquire, insert a row, release).")
    var writingTests = 0
    @Option(help: "Then run this many tests at once, as Swift Testing starts a suite (each: acquire, a query, ~5 ms of work, release), print the set-up and test time summed and how many came from the pool, and exit without shutdown() — its ready clones stay for the next process.")
    var burst = 0
    @Flag(help: "Exit at a random moment within 8 ms of the last release (of the held databases when no tests follow), with its verdict and the run audit's read under way and no shutdown() (the exit tests).")
    var exitAtOnce = false

    /// Ends the process soon after the last release, at a random point of its verdict.
    private func exitDuringVerdict() -> Never {
        usleep(UInt32.random(in: 0...8_000))
        Foundation.exit(0)
    }

    func run() async throws {
        let processStarted = ContinuousClock.now
        guard (migrations != nil) != swiftMigrations else {
            throw ValidationError("give either --migrations DIR or --swift-migrations")
        }
        let schema: SchemaMigrations = migrations.map { .sqlDirectory(URL(fileURLWithPath: $0)) } ?? .closure { context in
            try await context.connection.execute("CREATE TABLE swift_migrated (id bigserial PRIMARY KEY, name text NOT NULL)")
        }
        let manager = TestDatabaseManager(
            prefix: prefix, migrations: schema,
            seeders: seed.isEmpty ? [] : [Seeders.sqlFiles(seed.map { URL(fileURLWithPath: $0) })],
            poolSize: readOnlyTests + writingTests + burst > 0 ? 2 : 0, logger: options.logger())
        try await manager.prepare()
        let built = try await manager.builtTemplate
        FileHandle.standardOutput.write(Data("\(built ? "built" : "reused") \(try await manager.templateName ?? "-")\n".utf8))
        var databases: [PostgresTestDatabase] = []
        for i in 0..<acquire {
            let db = try await manager.acquire(testName: "held\(i)")
            if i == 0 {   // time to first test in this fresh process (from the command's start)
                let elapsed = ContinuousClock.now - processStarted
                FileHandle.standardOutput.write(Data("first test database after \(String(format: "%.2f", elapsed.milliseconds)) ms\n".utf8))
            }
            FileHandle.standardOutput.write(Data("acquired \(db.name)\n".utf8))   // unbuffered: a crash test reads it
            databases.append(db)
        }
        if acquire > 0 {   // the run audit's WAL window is open from here on (the audit tests wait for this line)
            FileHandle.standardOutput.write(Data("run audit reads the WAL: \(await manager.runAuditReadsWAL ? "yes" : "no")\n".utf8))
        }
        if holdSeconds > 0 {
            let deadline = ContinuousClock.now + .seconds(holdSeconds)
            while ContinuousClock.now < deadline {
                if let holdUntil, FileManager.default.fileExists(atPath: holdUntil) { break }
                try await Task.sleep(for: .milliseconds(holdUntil == nil ? 1000 : 50))
            }
        }
        for db in databases { try await db.release() }
        if exitAtOnce && readOnlyTests + writingTests + burst == 0 && acquire > 0 { exitDuringVerdict() }
        if readOnlyTests > 0 {
            try await manager.waitForPool()
            let started = ContinuousClock.now
            for _ in 0..<readOnlyTests {
                let db = try await manager.acquire(testName: "read-only")
                _ = try await db.simpleQuery(query)
                try await db.release()
            }
            await manager.waitForDrops()
            if exitAtOnce { exitDuringVerdict() }
            let perTest = (ContinuousClock.now - started).milliseconds / Double(readOnlyTests)
            let verdicts = await manager.recycleVerdicts
            let recycled = verdicts.filter { $0.recycledAs != nil }.count
            let durations = verdicts.map { $0.duration.milliseconds }.sorted()
            if !durations.isEmpty {
                FileHandle.standardOutput.write(Data("verdicts: p50 \(String(format: "%.2f", durations[durations.count / 2])) ms, max \(String(format: "%.2f", durations.last!)) ms, pool \(try await manager.pooledClones)\n".utf8))
            }
            FileHandle.standardOutput.write(Data("read-only tests: \(String(format: "%.2f", perTest)) ms per test (\(recycled)/\(readOnlyTests) clones recycled)\n".utf8))
        }
        if burst > 0 {
            let before = RunReport.shared.snapshot
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<burst {
                    group.addTask {
                        let db = try await manager.acquire(testName: "burst\(index)")
                        _ = try await db.simpleQuery(swiftMigrations ? "INSERT INTO swift_migrated (name) VALUES ('burst')" : "SELECT 1")
                        var spin = 0.0   // a little CPU, as an app's boot or a request would
                        for i in 0..<20_000 { spin += Double(i).squareRoot() }
                        try await Task.sleep(for: .milliseconds(5 + Int(spin) % 2))
                        try await db.release()
                    }
                }
                try await group.waitForAll()
            }
            let after = RunReport.shared.snapshot
            let setUp = after.setupMilliseconds - before.setupMilliseconds
            let inTests = after.testMilliseconds - before.testMilliseconds
            FileHandle.standardOutput.write(Data(("burst: \(after.databasesFromPool - before.databasesFromPool)/\(burst) from the pool, "
                + "set-up \(String(format: "%.0f", setUp)) ms vs in tests \(String(format: "%.0f", inTests)) ms (summed)\n").utf8))
            Foundation.exit(0)   // as a test process ends: no shutdown(), the exit leaves the ready clones
        }
        if writingTests > 0 {
            for _ in 0..<writingTests {
                let db = try await manager.acquire(testName: "writing")
                _ = try await db.simpleQuery(swiftMigrations
                    ? "INSERT INTO swift_migrated (name) VALUES ('written')"
                    : "CREATE TABLE written_by_the_test (id int)")
                try await db.release()
            }
            if exitAtOnce { exitDuringVerdict() }
            // The last verdicts count in the summary (a pool closed meanwhile discards them).
            await manager.settleRecycling()
        }
        await manager.shutdown()
    }
}
