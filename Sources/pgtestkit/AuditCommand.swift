import ArgumentParser
import Foundation
import PostgresTestKit

/// Runs any test command (any language) against the embedded server with the statement log
/// on, and reports premature writes from the server log alone.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Run a test command against the embedded server and flag premature writes from the server log.",
        discussion: """
            The command gets PGHOST, PGPORT, PGUSER, PGDATABASE and DATABASE_URL pointing at the \
            embedded server. Reported: writes to the maintenance databases (postgres, template1); \
            writes to databases that existed before the command (your dev database); writes to a \
            database the command created, before its first schema DDL; connections to databases \
            that existed before the command. Create and migrate your dev database first \
            (eval "$(pgtestkit server env)") to reproduce the worst form of the bug.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "The database PGDATABASE / DATABASE_URL name (e.g. your dev database).")
    var database = "postgres"
    @Option(help: "fail: exit 1 on a finding; warn: report only.")
    var policy: String = "fail"
    @Option(help: "Write the findings as JSON to this path.")
    var json: String?
    @Argument(parsing: .captureForPassthrough, help: "The command to run, after --.")
    var command: [String] = []

    func run() async throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = arguments.first else {
            throw ValidationError("give the command to audit after --, e.g. pgtestkit audit -- pytest")
        }
        let logger = options.logger()
        let server = try await EmbeddedServer.locate()
        try await server.start(logger: logger)
        let admin = try await Connection.connect(to: server.connectionString, applicationName: "pgtestkit-audit")
        let existing = Set(try await admin.execute("SELECT datname FROM pg_database").rows.compactMap { $0[0] })
        var reader = ServerLogReader(path: server.logFile)
        _ = try await reader.readThrough(admin)   // everything before the command is skipped

        var environment = ProcessInfo.processInfo.environment
        environment["PGHOST"] = server.socketDirectory
        environment["PGPORT"] = String(server.port)
        environment["PGUSER"] = EmbeddedServer.superuser
        environment["PGDATABASE"] = database
        environment["DATABASE_URL"] = "postgresql://\(EmbeddedServer.superuser)@/\(database)?host=\(server.socketDirectory)&port=\(server.port)"
        let executable = program.contains("/") ? program : (which(program) ?? program)
        FileHandle.standardError.write(Data("pgtestkit audit: running \(arguments.joined(separator: " "))\n".utf8))
        let result = try await runPassingThrough(executable, Array(arguments.dropFirst()), environment)

        let ownPID = await admin.backendPID
        let entries = try await reader.readThrough(admin).filter { $0.pid != ownPID }
        await admin.close()
        let findings = CommandAudit(existingBefore: existing).findings(in: entries)
        print("\npgtestkit audit: \(entries.count) log entries read, \(findings.count) finding(s); command exited \(result)")
        for finding in findings { print("  ✗ \(finding)") }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            try encoder.encode(findings).write(to: URL(fileURLWithPath: json))
        }
        if !findings.isEmpty && policy == "fail" { throw ExitCode(result == 0 ? 1 : result) }
        if result != 0 { throw ExitCode(result) }
    }

    private func which(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func runPassingThrough(_ executable: String, _ arguments: [String], _ environment: [String: String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: ValidationError("cannot run \(executable): \(error)"))
            }
        }
    }
}
