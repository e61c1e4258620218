import ArgumentParser
import Foundation
import PostgresTestKit

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every database the toolkit created on the server (owner marker required).")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Only databases of this prefix.")
    var prefix: String?
    @Flag(help: "Print only a census of the whole server, one line each: every database name and every role (`role:NAME`), sorted; for before/after checks.")
    var census = false

    func run() async throws {
        let logger = options.logger()
        let configuration = PostgresServerConfiguration.fromEnvironment()
        let server = try await configuration.resolve(logger: logger)
        let admin = try await AdminConnection.connect(to: server, runID: RunID(), applicationName: "pgtestkit-list", logger: logger)
        if census {
            let names = try await admin.census()
            await admin.close()
            for name in names { print(name) }
            return
        }
        let databases = try await admin.ownedDatabases(prefix: prefix, withSizes: true)
        await admin.close()
        func seconds(since date: Date?) -> String { date.map { "\(Int(Date().timeIntervalSince($0)))s" } ?? "?" }
        print("NAME".padding(toLength: 52, withPad: " ", startingAt: 0), "KIND     RUN         PID      AGE      LAST USE SIZE    USES TEST")
        for db in databases {
            let kind = db.marker.kept == true ? "kept" : db.marker.kind.rawValue
            print(db.name.padding(toLength: 52, withPad: " ", startingAt: 0),
                  kind.padding(toLength: 8, withPad: " ", startingAt: 0),
                  db.marker.run.padding(toLength: 11, withPad: " ", startingAt: 0),
                  String(db.marker.pid).padding(toLength: 8, withPad: " ", startingAt: 0),
                  seconds(since: db.marker.createdDate).padding(toLength: 8, withPad: " ", startingAt: 0),
                  (db.marker.kind == .template ? seconds(since: db.marker.lastUsedDate) : "-").padding(toLength: 8, withPad: " ", startingAt: 0),
                  "\(db.size / 1_048_576)MB".padding(toLength: 7, withPad: " ", startingAt: 0),
                  (db.marker.kind == .clone || db.marker.kind == .ready ? String(db.marker.uses ?? 0) : "-").padding(toLength: 4, withPad: " ", startingAt: 0),
                  db.marker.test ?? db.marker.template.map { "ready clone of \($0)" } ?? "")
        }
        let templates = databases.filter { $0.marker.kind == .template }
        let recycled = databases.filter { ($0.marker.uses ?? 0) > 1 || ($0.marker.uses == 1 && $0.marker.test == nil) }
        let ready = databases.filter { $0.marker.kind == .ready }
        if !ready.isEmpty { print("\(ready.count) ready clone(s) left for the next run to adopt (the warm pool; PGTESTKIT_WARM_POOL=0 turns it off)") }
        if !recycled.isEmpty { print("\(recycled.count) clone(s) recycled at least once (the WAL showed their tests changed nothing)") }
        print("\(databases.count) toolkit database(s) on \(configuration), \(databases.map(\.size).reduce(0, +) / 1_048_576) MB; "
              + "\(templates.count) template(s), \(templates.map(\.size).reduce(0, +) / 1_048_576) MB (collected after \(Int(TemplateCollector.defaultTTL.components.seconds / 3600)) h unused, PGTESTKIT_TEMPLATE_TTL)")
    }
}
