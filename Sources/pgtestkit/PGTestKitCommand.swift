import ArgumentParser
import Foundation
import Logging

@main
struct PGTestKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgtestkit",
        abstract: "PostgresTestKit: per-test PostgreSQL databases, templates, and premature-write audits.",
        subcommands: [ServerCommand.self, DemoCommand.self, ListCommand.self, ReapCommand.self, PrepareCommand.self, BenchCommand.self, AuditCommand.self, ReportCommand.self])
}

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log what the toolkit does (debug level).")
    var verbose = false

    func logger() -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var logger = Logger(label: "pgtestkit")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}
