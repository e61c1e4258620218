import ArgumentParser
import Foundation
import PostgresTestKit

struct ReapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reap",
        abstract: "Drop toolkit databases whose run is dead (no live admin session) and older than a grace period.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Seconds a database must be old before it is reaped.")
    var grace: Int = 60
    @Flag(help: "Also drop kept databases (keep-on-failure).")
    var kept = false
    @Flag(help: "Only say what would be dropped.")
    var dryRun = false

    func run() async throws {
        let logger = options.logger()
        let configuration = PostgresServerConfiguration.fromEnvironment()
        let server = try await configuration.resolve(logger: logger)
        let admin = try await AdminConnection.connect(to: server, runID: RunID(), applicationName: "pgtestkit-reap", logger: logger)
        let report = try await Reaper(admin: admin, logger: logger).reap(grace: .seconds(grace), includeKept: kept, dryRun: dryRun)
        await admin.close()
        for name in report.dropped { print("\(dryRun ? "would drop" : "dropped") \(name)") }
        for name in report.keptSkipped { print("kept (not dropped; use --kept): \(name)") }
        print("\(report.dropped.count) reaped, \(report.alive.count) belong to live runs, \(report.keptSkipped.count) kept")
    }
}
