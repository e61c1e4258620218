import ArgumentParser
import Foundation
import PostgresTestKit

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Start, stop or inspect the embedded PostgreSQL server.",
        subcommands: [Start.self, Stop.self, Status.self, Env.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Initialise (once) and start the embedded server.")
        @OptionGroup var options: GlobalOptions
        func run() async throws {
            let server = try await EmbeddedServer.locate()
            try await server.start(logger: options.logger())
            print("embedded PostgreSQL \(server.binaries.majorVersion) running: \(server.connectionString)")
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded server.")
        func run() async throws {
            let server = try await EmbeddedServer.locate()
            let wasRunning = await server.isRunning()
            try await server.stop()
            print(wasRunning ? "embedded server stopped" : "embedded server was not running")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the embedded server runs, and where.")
        func run() async throws {
            let server = try await EmbeddedServer.locate()
            let running = await server.isRunning()
            print("""
                embedded server: \(running ? "running" : "stopped")
                binaries: \(server.binaries.directory) (PostgreSQL \(server.binaries.majorVersion))
                data directory: \(server.dataDirectory)
                socket directory: \(server.socketDirectory)
                server log (JSON): \(server.logFile)
                runs as: \(server.serverUser ?? "the current user")
                """)
            if !running { throw ExitCode(3) }
        }
    }

    struct Env: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print PG* and DATABASE_URL lines for the embedded server, to eval in a shell.",
            discussion: "eval \"$(pgtestkit server env)\"  # starts the server if needed")
        @Option(help: "The database the variables point at.")
        var database = "postgres"
        func run() async throws {
            let server = try await EmbeddedServer.locate()
            try await server.start()
            print("export PGHOST='\(server.socketDirectory)'")
            print("export PGPORT='\(server.port)'")
            print("export PGUSER='\(EmbeddedServer.superuser)'")
            print("export PGDATABASE='\(database)'")
            print("export DATABASE_URL='postgresql://\(EmbeddedServer.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)'")
        }
    }
}
