import ArgumentParser
import Foundation
import PostgresTestKit

/// Runs any test command (any language) against the embedded server with the statement log
/// on, and reports premature writes from the server log alone.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Run a test command against the embedded server and flag premature writes from the server log and the WAL.",
        discussion: """
            The command gets PGHOST, PGPORT, PGUSER, PGDATABASE and DATABASE_URL pointing at the \
            embedded server. Findings (they fail the run): writes to the maintenance databases \
            (postgres, template1) and to databases that existed before the command (your dev \
            database), from the statement log and — PostgreSQL 15+ with pg_walinspect — from the \
            WAL, which also sees writes made by functions called from SELECT, DO, CALL, writing \
            CTEs and nextval; writes to a database the command created, before its first schema \
            DDL (a database created from a template is born migrated); statements that failed in \
            a maintenance database for want of the app's tables (42P01, 42703, 42883, 3F000). \
            Warnings (--strict makes them fail): connections to databases that existed before \
            the command. Create and migrate your dev database first \
            (eval "$(pgtestkit server env)") to reproduce the worst form of the bug.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "The database PGDATABASE / DATABASE_URL name (e.g. your dev database).")
    var database = "postgres"
    @Option(help: "fail: exit 1 on a finding; warn: report only.")
    var policy: AuditPolicy = .fail
    @Flag(help: "Fail on warnings too (connections to databases that existed before the command).")
    var strict = false
    @Option(help: "Write the findings (those that fail the run) as JSON to this path.")
    var json: String?
    @Argument(parsing: .captureForPassthrough, help: "The command to run, after --.")
    var command: [String] = []

    func run() async throws {
        // The command is captured as it is, so `pgtestkit audit --help` arrives here as the
        // command to audit: before a `--`, it asks for this help.
        if let first = command.first, ["--help", "-h", "help"].contains(first) {
            print(Self.helpMessage())
            return
        }
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = arguments.first else {
            throw ValidationError("give the command to audit after --, e.g. pgtestkit audit -- pytest")
        }
        guard policy != .off else {
            throw ValidationError("--policy is fail or warn: an audit that neither fails nor reports is not one")
        }
        let logger = options.logger()
        let server = try await EmbeddedServer.locate()
        try await server.start(logger: logger)
        let admin = try await Connection.connect(to: server.connectionString, applicationName: "pgtestkit-audit")
        let witness: WalWitness?
        do {
            // Through the WAL, not file by file: a FILE_COPY create checkpoints, after which
            // every sequence's next nextval logs — the comparison of sequence states, which
            // finds a nextval within the values already logged, would then never be what
            // finds it. (A test process's witness copies file by file, for less WAL to read.)
            witness = try await WalWitness.open(server: server.connectionString, copyThroughWAL: true, logger: logger)
        } catch {
            witness = nil
            let reason = error as? TestKitError ?? TestKitError(.configuration, "it could not be set up (\(error)).", underlying: error)
            FileHandle.standardError.write(Data("pgtestkit audit: \(WalWitness.unavailableNote(reason))\n".utf8))
        }
        let before = try await admin.execute("SELECT oid::text, datname, shobj_description(oid, 'pg_database') FROM pg_database").rows
            .compactMap { row -> CommandAudit.Database? in
                guard let oid = row[0].flatMap({ UInt32($0) }), let name = row[1] else { return nil }
                return CommandAudit.Database(oid: oid, name: name, isToolkit: OwnerMarker(comment: row[2]) != nil)
            }
        // Sequences first: their sessions' log lines come before the command's window.
        let sequencesBefore = await SequenceStates.read(before, server: server.connectionString)
        var reader = ServerLogReader(path: server.logFile)
        _ = try await reader.readThrough(admin)   // everything before the command is skipped
        var wal = WalReading(witness: witness)
        await wal.start()

        var environment = ProcessInfo.processInfo.environment
        environment["PGHOST"] = server.socketDirectory
        environment["PGPORT"] = String(server.port)
        environment["PGUSER"] = EmbeddedServer.superuser
        environment["PGDATABASE"] = database
        environment["DATABASE_URL"] = ConnectionDetails(
            host: server.socketDirectory, port: server.port, user: EmbeddedServer.superuser, database: database).url
        // Test processes that use the toolkit run its own audit too: their reports say what it
        // found, so that a finding both audits make is reported once.
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("pgtestkit-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: reports) }
        // Where the command's test processes write them: the caller's PGTESTKIT_REPORT when set
        // (those reports are the caller's; they are read, not moved), else a directory of ours.
        let reportPath = environment["PGTESTKIT_REPORT"] ?? reports.path + "/report-%p.json"
        environment["PGTESTKIT_REPORT"] = reportPath
        let commandStarted = Date()
        let executable = program.contains("/") ? program : (Subprocess.which(program) ?? program)
        FileHandle.standardError.write(Data("pgtestkit audit: running \(arguments.joined(separator: " "))\n".utf8))
        let result: Int32
        do {
            result = try await Subprocess.run(
                executable, Array(arguments.dropFirst()), environment: environment, captureOutput: false,
                whileRunning: { await wal.readIfDue() }   // WAL read (and let go) while the command runs
            ).status
        } catch {
            throw ValidationError("cannot run \(executable): \(error)")
        }
        await wal.read()

        var ownPIDs: Set<Int32> = [await admin.backendPID]
        if let witness { ownPIDs.formUnion(await witness.backendPIDs()) }
        let entries = try await reader.readThrough(admin).filter { !ownPIDs.contains($0.pid ?? -1) }
        await admin.close()
        var changes = wal.changes
        if let witness {
            for database in before where !database.isToolkit && changes[database.oid] != nil {
                changes[database.oid] = await witness.resolveNames(of: changes[database.oid] ?? [], in: database.name)
            }
            await witness.close()
        }
        let sequencesAfter = await SequenceStates.read(before, server: server.connectionString)   // after the log was read
        let outcome = CommandAudit(before: before, strict: strict).audit(
            entries, wal: witness == nil ? nil : changes, sequences: (sequencesBefore, sequencesAfter))
        let alreadyReported = Self.findingsReported(at: reportPath, writtenSince: commandStarted)
        let (repeated, new) = outcome.findings.reduce(into: ([LifecycleViolation](), [LifecycleViolation]())) { split, finding in
            if alreadyReported.contains(Self.identity(finding)) { split.0.append(finding) } else { split.1.append(finding) }
        }
        print("\npgtestkit audit: \(entries.count) log entries read, WAL witness: \(wal.summary), \(outcome.findings.count) finding(s); \(outcome.warnings.count) warning(s); command exited \(result)")
        if !repeated.isEmpty {
            print("  \(repeated.count) of them the test process's own PostgresTestKit audit reported already (its summary, above)")
        }
        for finding in new { print("  ✗ \(finding)") }
        for warning in outcome.warnings { print("  ⚠ \(warning)") }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            try encoder.encode(outcome.findings).write(to: URL(fileURLWithPath: json))
        }
        if !outcome.findings.isEmpty && policy == .fail { throw ExitCode(result == 0 ? 1 : result) }
        if result != 0 { throw ExitCode(result) }
    }

    /// What makes two audits' findings the same: kind, database and statement.
    static func identity(_ finding: LifecycleViolation) -> String {
        "\(finding.kind.rawValue)|\(finding.database)|\(finding.statement ?? "")"
    }

    /// The findings, by ``identity(_:)``, in the JSON reports the audited command's test
    /// processes wrote at `path` (a `PGTESTKIT_REPORT` value: `%p` in its file name stands for
    /// any process id) since `since`: an older report at the same path is another run's.
    static func findingsReported(at path: String, writtenSince since: Date) -> Set<String> {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let pattern = url.lastPathComponent.components(separatedBy: "%p")
        let files = pattern.count == 2
            ? ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasPrefix(pattern[0]) && $0.hasSuffix(pattern[1]) && $0.count >= pattern[0].count + pattern[1].count }
            : [url.lastPathComponent]
        var found: Set<String> = []
        for file in files {
            let full = directory + "/" + file
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: full))?[.modificationDate] as? Date,
                  modified >= since.addingTimeInterval(-1),   // file times may be coarser than the clock
                  let report = try? RunReport.readJSON(at: full) else { continue }
            found.formUnion(report.violations.map(identity))
        }
        return found
    }
}
