import ArgumentParser
import Foundation
import PostgresTestKit

struct ReapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reap",
        abstract: "Drop the toolkit databases of dead runs; never one a session is connected to.",
        discussion: """
            A run is dead when none of its admin sessions is connected and its run lock is free, \
            and either it ran on this host and its process is gone, or it ran on another host and \
            its newest database is older than --grace. A database with a connected session is \
            reported as in use, never dropped. Only local sockets and loopback are allowed unless \
            PGTESTKIT_ALLOWED_HOSTS names the server. On a shared server, reap only your own: \
            --this-host, --prefix, --run.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Seconds the newest database of another host's run must be old before the run is reaped.")
    var grace: Int = 60
    @Flag(help: "Also drop kept databases (keep-on-failure), whatever their run, unless in use.")
    var kept = false
    @Option(name: .customLong("prefix"), help: "Only databases of this prefix (repeatable).")
    var prefixes: [String] = []
    @Option(name: .customLong("run"), help: "Only databases of this run id (repeatable), e.g. the runs a script started.")
    var runs: [String] = []
    @Flag(help: "Only databases created on this host, judged by whether their process still exists.")
    var thisHost = false
    @Flag(help: "Also collect templates no live run holds and no run used for --ttl (default PGTESTKIT_TEMPLATE_TTL, else 3 days); only your role's, and only those --prefix, --run and --this-host allow.")
    var templates = false
    @Option(help: "With --templates: how long unused (seconds, or 90m, 36h, 7d); 0 collects every unused template.")
    var ttl: String?
    @Option(help: "With --templates: only templates created after this moment (ISO 8601, e.g. the start of a test run).")
    var createdAfter: String?
    @Flag(help: "Only say what would be dropped.")
    var dryRun = false

    func validate() throws {
        if grace < 0 { throw ValidationError("--grace must be 0 or more") }
        for prefix in prefixes {
            do { try DatabaseName.validatePrefix(prefix) } catch { throw ValidationError("--prefix \(prefix): \(error)") }
        }
        if let ttl { do { _ = try TemplateCollector.parseTTL(ttl) } catch { throw ValidationError("--ttl \(ttl): \(error)") } }
        if let createdAfter, OwnerMarker.date(fromTimestamp: createdAfter) == nil {
            throw ValidationError("--created-after \(createdAfter): give an ISO 8601 time such as 2026-12-01T21:00:00Z")
        }
        if (ttl != nil || createdAfter != nil) && !templates { throw ValidationError("--ttl and --created-after go with --templates") }
        if let run = runs.first(where: { $0.isEmpty || !$0.allSatisfy(\.isHexDigit) }) {
            throw ValidationError("--run \(run): a run id is hexadecimal (the RUN column of pgtestkit list)")
        }
    }

    func run() async throws {
        let logger = options.logger()
        let configuration = PostgresServerConfiguration.fromEnvironment()
        let server = try await configuration.resolve(logger: logger)
        // Refuse a named host before connecting; the host libpq really reached is checked after.
        let named = try server.parameters()
        try HostAllowList.fromEnvironment().check(named["host"] ?? "", source: configuration.description)
        try HostAllowList.fromEnvironment().check(named["hostaddr"] ?? "", source: configuration.description)
        let admin = try await AdminConnection.connect(to: server, runID: RunID(), applicationName: "pgtestkit-reap", logger: logger)
        let report: Reaper.Report
        var collected = TemplateCollector.Report()
        do {
            try await admin.requireAllowedHost(source: configuration.description)
            let scope = Reaper.Scope(prefixes: prefixes, runs: Set(runs.map { $0.lowercased() }), thisHostOnly: thisHost)
            report = try await Reaper(admin: admin, logger: logger).reap(
                scope: scope, grace: .seconds(grace), includeKept: kept, dryRun: dryRun)
            if templates {   // the same scope: --prefix, --run and --this-host hold for templates too
                let ttl = try ttl.map(TemplateCollector.parseTTL) ?? ToolkitSettings.process.templateTTL.get()
                collected = try await TemplateCollector(admin: admin, logger: logger).collect(
                    ttl: ttl, createdAfter: createdAfter.flatMap(OwnerMarker.date(fromTimestamp:)), scope: scope, dryRun: dryRun)
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        for name in report.dropped { print("\(dryRun ? "would drop" : "dropped") \(name)") }
        for name in collected.dropped { print("\(dryRun ? "would drop" : "dropped") template \(name)") }
        for name in collected.readyDropped { print("\(dryRun ? "would drop" : "dropped") ready clone \(name)") }
        for name in collected.inUse { print("template in use by a live run (not dropped): \(name)") }
        for name in report.keptSkipped { print("kept (not dropped; use --kept): \(name)") }
        for name in report.inUse { print("in use (not dropped: sessions are connected): \(name)") }
        for failure in report.failures {
            FileHandle.standardError.write(Data("could not drop \(failure)\n".utf8))
        }
        print("\(report.dropped.count) reaped, \(collected.dropped.count) templates collected, \(collected.readyDropped.count) ready clones collected, \(Set(report.ready).subtracting(collected.readyDropped).count) ready clones kept, \(report.alive.count) belong to live runs, \(report.inUse.count) in use, \(report.keptSkipped.count) kept, \(report.failures.count) could not be dropped")
    }
}
