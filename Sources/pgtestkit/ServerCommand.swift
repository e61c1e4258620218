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
            discussion: """
                eval "$(pgtestkit server env)"  # starts the server if needed
                DATABASE_URL has the shape of a test database's url (libpq, psql, Python), without a
                password: with a TCP server (PGTESTKIT_TCP=1) PGPASSFILE points at its 0600 .pgpass file.
                PGTESTKIT_POSTGRESKIT_URL is the form PostgresKit and Fluent accept (postgresql+uds:// over
                the socket). Over TCP it, and the DATABASE_HOST, DATABASE_PORT, DATABASE_USERNAME,
                DATABASE_PASSWORD and DATABASE_NAME that Vapor's template reads, carry the local server's
                random password, for clients that read no .pgpass file.
                """)
        @Option(help: "The database the variables point at.")
        var database = "postgres"
        func run() async throws {
            let server = try await EmbeddedServer.locate()
            try await server.start()
            let details = ConnectionDetails(parameters: try server.connectionString.parameters()).with(database: database)
            var variables = details.environment
            if server.tcp, let host = details.host {
                variables["PGPASSFILE"] = server.passwordFile
                // Clients that read no .pgpass (PostgresNIO, PostgresKit, Vapor's template) get
                // the password itself: the embedded TCP server's random one, on 127.0.0.1.
                let withPassword = ConnectionDetails(host: host, port: details.port, user: details.user,
                                                     password: server.password, database: details.database)
                variables["PGTESTKIT_POSTGRESKIT_URL"] = withPassword.postgresKitURL
                variables["DATABASE_HOST"] = host
                variables["DATABASE_PORT"] = String(details.port)
                variables["DATABASE_USERNAME"] = details.user
                variables["DATABASE_PASSWORD"] = server.password ?? ""
                variables["DATABASE_NAME"] = details.database
            } else {
                variables["PGTESTKIT_POSTGRESKIT_URL"] = details.postgresKitURL
            }
            for name in variables.keys.sorted() {
                print("export \(name)=\(variables[name]!.shellQuoted)")
            }
            if !server.tcp {
                print("# Vapor's template reads DATABASE_HOST, DATABASE_PORT, DATABASE_USERNAME, DATABASE_PASSWORD and DATABASE_NAME over TCP: PGTESTKIT_TCP=1 pgtestkit server env prints them.")
            }
        }
    }
}

