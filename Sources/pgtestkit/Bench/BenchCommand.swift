import ArgumentParser
import Foundation
import Logging
import NotificationsFixture
import PostgresTestKit

/// Measures what the toolkit costs a test against the floor of raw libpq on the same server:
/// create from template, connect, drop; warm-pool acquire and release; back-to-back
/// throughput; template build and reuse; memory.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark per-test databases against raw libpq floors (create/connect/drop, warm pool, template build/reuse, memory).",
        discussion: """
            Runs on the configured server (the embedded one by default) for two fixtures: \
            notifications (3 migrations + NotificationTypeSync) and bench40 (5 migrations, 42 tables, \
            3,508 seed rows). Every database it creates carries a unique prefix and is dropped at the end.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Iterations per measured figure (default 50; 5 with --quick).")
    var iterations: Int?
    @Flag(help: "A smoke run with few iterations (5).")
    var quick = false
    @Option(help: "Write every figure as JSON to this path.")
    var json: String?
    @Option(help: "Clones the warm pool keeps ahead.")
    var poolSize = 4
    @Option(help: "Measure your own schema: a directory of *.sql migrations (run in version order).")
    var migrations: String?
    @Option(help: "With --migrations: a directory of *.sql seed files run after them, in name order.")
    var seeds: String?

    func validate() throws {
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if seeds != nil && migrations == nil { throw ValidationError("--seeds goes with --migrations") }
        for directory in [migrations, seeds].compactMap({ $0 }) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(directory) is not a directory of .sql files")
            }
        }
        if poolSize < 1 { throw ValidationError("--pool-size must be at least 1") }
    }

    func run() async throws {
        let logger = options.logger()
        let count = iterations ?? (quick ? 5 : 50)
        let clock = ContinuousClock()
        let started = clock.now
        let configuration = PostgresServerConfiguration.fromEnvironment()
        let server = try await configuration.resolve(logger: logger)
        let runID = RunID()
        let admin = try await AdminConnection.connect(
            to: server, runID: runID, applicationName: "pgtestkit-bench:\(runID)", logger: logger)
        try await admin.requireAllowedHost(source: configuration.description)   // it drops what it made
        let prefix = "bench" + String(format: "%08x", UInt32.random(in: 0...UInt32.max))
        print("== pgtestkit bench: \(configuration), PostgreSQL \(admin.serverMajorVersion), \(count) iterations, pool size \(poolSize), prefix \(prefix)")

        let bench = Bench(server: server, admin: admin, runID: runID, prefix: prefix, iterations: count,
                          poolSize: poolSize, logger: logger, ballastMB: quick ? 16 : 420)
        let fixtures = NotificationsFixture.fixturesDirectory
        let bench40 = fixtures.appendingPathComponent("bench40")
        var sets: [BenchFixture] = [
            .sql(name: "notifications", title: "notifications (3 migrations + NotificationTypeSync)",
                 migrations: fixtures.appendingPathComponent("notifications/Migrations"), seeds: [], swiftSeeders: [NotificationTypeSync()]),
            .sql(name: "bench40", title: "bench40 (5 migrations, 42 tables + 0001_seed.sql)",
                 migrations: bench40.appendingPathComponent("Migrations"), seeds: [bench40.appendingPathComponent("Seeds/0001_seed.sql")]),
        ]
        if let migrations {
            // The user's own schema instead of ours.
            let directory = URL(fileURLWithPath: migrations)
            let seedFiles = try seeds.map { seeds in
                try FileManager.default.contentsOfDirectory(atPath: seeds).filter { $0.hasSuffix(".sql") }.sorted()
                    .map { URL(fileURLWithPath: seeds).appendingPathComponent($0) }
            } ?? []
            sets = [.sql(name: directory.deletingLastPathComponent().lastPathComponent, title: "your schema (\(migrations))",
                         migrations: directory, seeds: seedFiles)]
        }

        var figures: [BenchFigure] = []
        var templates: [String] = []
        var failure: (any Error)?
        do {
            print("-- bare connect + SELECT 1 + close to postgres")
            let bare = try await bench.bareConnect()
            figures += [
                BenchFigure(section: "server", name: "bare connect + SELECT 1 + close p50", ms: bare.p50),
                BenchFigure(section: "server", name: "bare connect + SELECT 1 + close p95", ms: bare.p95),
                BenchFigure(section: "server", name: "bare connect + SELECT 1 + close p99", ms: bare.p99),
            ]
            let guardCost = try await bench.hookGuardOverhead()
            figures += [
                BenchFigure(section: "server", name: "connect hook alone (SET TIME ZONE) p50", ms: guardCost.bare),
                BenchFigure(section: "server", name: "hook guard overhead per connection, fail mode", unit: "ms",
                            value: guardCost.fail - guardCost.bare, target: "<= 1 ms per acquire",
                            pass: guardCost.fail - guardCost.bare <= 1, note: "read-only session around the hook"),
                BenchFigure(section: "server", name: "hook guard overhead per connection, warn mode", unit: "ms",
                            value: guardCost.warn - guardCost.bare, target: "<= 1 ms per acquire",
                            pass: guardCost.warn - guardCost.bare <= 1, note: "transaction + xid check"),
            ]
            if let rss = Bench.residentMB() {
                figures.append(BenchFigure(section: "server", name: "RSS of the process at start (admin connected)", unit: "MB", value: rss))
            }
            for fixture in sets {
                print("-- \(fixture.title)")
                let result = try await bench.measure(fixture, bareConnect: bare.p50)
                figures += result.figures
                templates += result.templates
            }
        } catch {
            failure = error
        }

        // Cleanup: the templates it built, then anything else left under the run's prefix.
        var leftBehind = 0
        for template in Set(templates) {
            do { try await admin.dropDatabase(template) } catch { print("could not drop template \(template): \(error)") }
        }
        if let owned = try? await admin.ownedDatabases(prefix: prefix) {
            for database in owned {
                print("note: dropping left-over \(database.name)")
                _ = try? await admin.dropDatabase(database.name)
            }
        }
        leftBehind = (try? await admin.query(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)", prefix + "_"
        ).rows.first?.decode(Int.self, at: 0)) ?? -1
        await admin.close()
        let total = clock.now - started

        if let failure {
            print("bench failed after \(String(format: "%.1f", total.milliseconds / 1000)) s: \(failure)")
            throw failure
        }

        printTable(figures)
        let misses = figures.filter { $0.pass == false }.count
        let targets = figures.filter { $0.pass != nil }.count
        print("targets: \(targets - misses)/\(targets) PASS; databases left behind with prefix \(prefix)_: \(leftBehind); run took \(String(format: "%.1f", total.milliseconds / 1000)) s")

        if let json {
            let report = BenchReport(
                server: configuration.description, serverMajorVersion: admin.serverMajorVersion, prefix: prefix,
                iterations: count, poolSize: poolSize, totalSeconds: total.milliseconds / 1000,
                leftBehind: leftBehind, figures: figures)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
        fflush(nil)   // before the toolkit's exit summary on stderr
    }

    private func printTable(_ figures: [BenchFigure]) {
        func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
            let count = s.count
            if count >= width { return s }
            let fill = String(repeating: " ", count: width - count)
            return right ? fill + s : s + fill
        }
        print("")
        print(pad("figure", 62), pad("value", 12, right: true), pad("floor", 10, right: true), pad("ratio", 8, right: true), " target")
        print(String(repeating: "-", count: 120))
        var section = ""
        for figure in figures {
            if figure.section != section {
                section = figure.section
                print("[\(section)]")
            }
            let value = figure.value.map { BenchFigure.format($0, figure.unit) } ?? (figure.note ?? "-")
            let floor = figure.floor.map { BenchFigure.format($0, figure.unit) } ?? "-"
            let ratio = figure.ratio.map { String(format: "%.2fx", $0) } ?? "-"
            var target = figure.target.map { " \($0)" } ?? ""
            if let pass = figure.pass { target += pass ? "  PASS" : "  MISS" }
            if figure.value != nil, let note = figure.note { target += (target.isEmpty ? " " : "  ") + "(\(note))" }
            print(pad("  " + figure.name, 62), pad(value, 12, right: true), pad(floor, 10, right: true), pad(ratio, 8, right: true), target)
        }
        print("")
    }
}

extension BenchFixture {
    /// A fixture of SQL migrations (and seed files, plus Swift seeders the subprocess lacks).
    static func sql(name: String, title: String, migrations: URL, seeds: [URL], swiftSeeders: [any Seeder] = []) -> BenchFixture {
        BenchFixture(
            name: name, title: title, migrations: .sqlDirectory(migrations),
            seeders: swiftSeeders + (seeds.isEmpty ? [] : [Seeders.sqlFiles(seeds)]),
            prepareArguments: ["--migrations", migrations.path] + seeds.flatMap { ["--seed", $0.path] })
    }
}
