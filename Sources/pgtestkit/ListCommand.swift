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

    func run() async throws {
        let logger = options.logger()
        let configuration = PostgresServerConfiguration.fromEnvironment()
        let server = try await configuration.resolve(logger: logger)
        let admin = try await AdminConnection.connect(to: server, runID: RunID(), applicationName: "pgtestkit-list", logger: logger)
        let databases = try await admin.ownedDatabases(prefix: prefix)
        await admin.close()
        print("NAME".padding(toLength: 52, withPad: " ", startingAt: 0), "KIND     RUN         PID      AGE      SIZE    TEST")
        for db in databases {
            let kind = db.marker.kept == true ? "kept" : db.marker.kind.rawValue
            let age = db.marker.createdDate.map { Int(Date().timeIntervalSince($0)) }.map { "\($0)s" } ?? "?"
            print(db.name.padding(toLength: 52, withPad: " ", startingAt: 0),
                  kind.padding(toLength: 8, withPad: " ", startingAt: 0),
                  db.marker.run.padding(toLength: 11, withPad: " ", startingAt: 0),
                  String(db.marker.pid).padding(toLength: 8, withPad: " ", startingAt: 0),
                  age.padding(toLength: 8, withPad: " ", startingAt: 0),
                  "\(db.size / 1_048_576)MB".padding(toLength: 7, withPad: " ", startingAt: 0),
                  db.marker.test ?? "")
        }
        print("\(databases.count) toolkit database(s) on \(configuration)")
    }
}
