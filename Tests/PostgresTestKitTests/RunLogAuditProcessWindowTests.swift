import Foundation
import Testing
@testable import PostgresTestKit

/// The run log audit's window opens when the test process starts, not at its first acquire.
///
/// Within this test process the first acquire happened long ago (in other tests), so the
/// honest test is a fresh process: `/bin/sh` writes into a pre-existing "dev database" with
/// `psql` (the app's set-up, before any acquire) and then `exec`s `pgtestkit prepare --acquire 1`
/// — the same process, started before the write. Each runs against a private embedded server
/// (its own log) and is judged from its `PGTESTKIT_REPORT` and exit status.
@Suite("Run log audit: the window is the whole test process", .serialized,
       .enabled(if: PostgresServerConfiguration.fromEnvironment().isEmbedded))
struct RunLogAuditProcessWindowTests {
    static let directory = "/dev/shm/pgtestkit-process-window-test-\(getuid())"

    struct Context {
        let server: EmbeddedServer
        /// The pre-existing database (the app's dev database), with a table.
        let dev: String
        /// libpq keyword form for the dev database, as "the app" connects.
        let devConnInfo: String
    }

    struct Outcome {
        let status: Int32
        let output: String
        let report: RunReport.Snapshot?
        /// Whether the process said its run audit reads the WAL (`prepare --acquire`).
        var readsWAL: Bool { output.contains("run audit reads the WAL: yes") }
        /// The report's findings about the dev database.
        func devFindings(_ dev: String) -> [LifecycleViolation] {
            (report?.violations ?? []).filter { $0.database == dev }
        }
    }

    /// A private embedded server with a dev database; stopped and removed afterwards.
    func withDevDatabase(_ body: (Context) async throws -> Void) async throws {
        try #require(Subprocess.which("psql") != nil, "psql (postgresql-client) is needed; scripts/test installs it")
        try #require(FileManager.default.isExecutableFile(atPath: AuditCommandTests.executable), "build the pgtestkit product first")
        let configuration = PostgresServerConfiguration.embedded(dataDirectory: Self.directory)
        let server = try #require(try await configuration.embeddedServer())
        try await server.start(logger: TestSupport.logger)
        let setup = try await Connection.connect(to: server.connectionString)
        let dev = TestSupport.uniquePrefix("devdb")
        try await setup.execute("CREATE DATABASE \(dev)")
        var parameters = try server.connectionString.parameters()
        parameters["dbname"] = dev
        parameters["application_name"] = "the-app"
        let devConnInfo = ConnectionString.keywordForm(parameters).raw
        let app = try await Connection.connect(to: ConnectionString(devConnInfo))
        try await app.execute("CREATE TABLE notification_types (name text)")
        await app.close()
        do {
            try await body(Context(server: server, dev: dev, devConnInfo: devConnInfo))
        } catch {
            await Self.tearDown(server, setup, dev)
            throw error
        }
        await Self.tearDown(server, setup, dev)
    }

    static func tearDown(_ server: EmbeddedServer, _ setup: Connection, _ dev: String) async {
        _ = try? await setup.execute("DROP DATABASE IF EXISTS \(dev) WITH (FORCE)")
        await setup.close()
        try? await server.stop(mode: .immediate)
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: directory + ".lock")
    }

    /// Runs `setUp` (shell, may be empty) and then `exec`s `pgtestkit prepare --acquire 1` in one
    /// process, under the `.fail` policy, and reads its JSON report.
    func runTestProcess(_ context: Context, setUp: String, environment extra: [String: String] = [:]) async throws -> Outcome {
        try await runTestProcess(context, script: (setUp.isEmpty ? "" : setUp + " && ")
            + #"exec "$PGTESTKIT_CLI" prepare --swift-migrations --acquire 1 --prefix "$PREFIX""#, environment: extra)
    }

    /// Runs `script` (shell; `$PGTESTKIT_CLI`, `$PREFIX` and `$DEV_CONNINFO` are set) under the
    /// `.fail` policy against the private server, and reads the JSON report it leaves.
    func runTestProcess(_ context: Context, script: String, environment extra: [String: String] = [:]) async throws -> Outcome {
        let report = NSTemporaryDirectory() + "pgtestkit-window-report-\(UUID().uuidString).json"
        defer { unlink(report) }
        var environment = ProcessInfo.processInfo.environment
        for key in ["DATABASE_URL", "PGTESTKIT_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGSERVICE", "PGTESTKIT_REBUILD"] {
            environment[key] = nil
        }
        environment["PGTESTKIT_DATA_DIR"] = Self.directory
        environment["PGTESTKIT_AUDIT"] = "fail"
        environment["PGTESTKIT_REPORT"] = report
        environment["DEV_CONNINFO"] = context.devConnInfo
        environment["PGTESTKIT_CLI"] = AuditCommandTests.executable
        environment["PREFIX"] = TestSupport.uniquePrefix("win")
        environment.merge(extra) { $1 }
        let output = try await Subprocess.run("/bin/sh", ["-c", script], environment: environment)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let snapshot = FileManager.default.contents(atPath: report).flatMap { try? decoder.decode(RunReport.Snapshot.self, from: $0) }
        return Outcome(status: output.status, output: output.output, report: snapshot)
    }

    static func psql(_ sql: String) -> String {
        #"psql -X -q -v ON_ERROR_STOP=1 "$DEV_CONNINFO" -c "\#(sql)""#
    }

    static let insert = "INSERT INTO notification_types VALUES ('written in the set-up, before the first acquire')"

    @Test func aWriteIntoTheDevDatabaseBeforeTheFirstAcquireIsFlagged() async throws {
        try await withDevDatabase { context in
            let outcome = try await runTestProcess(context, setUp: Self.psql(Self.insert))
            let flagged = outcome.devFindings(context.dev).filter { $0.kind == .writeToForeignDatabase }
            #expect(flagged.contains { $0.statement == Self.insert }, "\(outcome.output)")
            #expect(flagged.allSatisfy { $0.applicationName == "the-app" })
            #expect(!flagged.contains { $0.statement?.hasPrefix("CREATE TABLE") == true })   // the set-up before the process started
            #expect(flagged.contains { $0.note?.contains("before this process's first test database was handed out") == true })
            #expect(outcome.output.contains("write_to_foreign_database in database \(context.dev)"))   // the summary on stderr
            #expect(outcome.status == 1, "under .fail the run fails: \(outcome.output)")
        }
    }

    @Test func aWriteIntoTheDevDatabaseBeforeTheProcessStartedIsNotFlagged() async throws {
        try await withDevDatabase { context in
            // Made by another process (this one) before the test process starts: not its window.
            let app = try await Connection.connect(to: ConnectionString(context.devConnInfo))
            try await app.execute(Self.insert)
            await app.close()   // no pause: the window opens at the latest moment the process can have started
            let outcome = try await runTestProcess(context, setUp: "")
            #expect(outcome.report != nil, "\(outcome.output)")
            #expect(outcome.devFindings(context.dev).isEmpty, "\(outcome.report?.violations ?? [])")
            #expect(outcome.status == 0, "\(outcome.output)")
        }
    }

    @Test func aReadOfTheDevDatabaseBeforeTheFirstAcquireIsNotAFailingFinding() async throws {
        try await withDevDatabase { context in
            let outcome = try await runTestProcess(context, setUp: Self.psql("SELECT count(*) FROM notification_types"))
            #expect(outcome.report != nil, "\(outcome.output)")
            #expect(!outcome.devFindings(context.dev).contains { $0.kind == .writeToForeignDatabase }, "\(outcome.report?.violations ?? [])")
            #expect(outcome.status == 0, "\(outcome.output)")
        }
    }

    @Test func aWriteLeftInTheRotatedLogIsStillFlagged() async throws {
        try await withDevDatabase { context in
            // PGTESTKIT_LOG_LIMIT_MB=0: the process's preparation rotates the log, so the write
            // made before it is only in server.json.1.
            let outcome = try await runTestProcess(context, setUp: Self.psql(Self.insert), environment: ["PGTESTKIT_LOG_LIMIT_MB": "0"])
            let rotated = try String(contentsOfFile: ServerLogReader.rotatedPath(of: context.server.logFile), encoding: .utf8)
            #expect(rotated.contains("written in the set-up, before the first acquire"))
            let current = try String(contentsOfFile: context.server.logFile, encoding: .utf8)
            #expect(!current.contains("written in the set-up, before the first acquire"))
            #expect(outcome.devFindings(context.dev).contains { $0.kind == .writeToForeignDatabase && $0.statement == Self.insert }, "\(outcome.output)")
            #expect(outcome.status == 1, "\(outcome.output)")
        }
    }

    @Test func theProcessStartIsBeforeNowAndAfterBoot() throws {
        let start = ProcessStartTime.date
        #expect(start <= Date())
        #expect(Date().timeIntervalSince(start) < ProcessInfo.processInfo.systemUptime + 1)
        #if os(Linux)
        // The wall-clock placement agrees with /proc/stat's btime (whole seconds) to the second.
        let ticks = try #require(ProcessStartTime.linuxStartTicks())
        let stat = try String(contentsOfFile: "/proc/stat", encoding: .utf8)
        let btime = try #require(stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) })
        let fromBootTime = btime + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
        #expect(abs(start.timeIntervalSince1970 - fromBootTime) < 1.5)
        #expect(start.timeIntervalSince1970 >= fromBootTime)   // the tick's end: never before the true start
        #expect(start.timeIntervalSince1970 < fromBootTime + 1.1)
        #endif
    }

    @Test func theAuditLeavesOutWhatWasLoggedBeforeItsWindow() async throws {
        let directory = NSTemporaryDirectory() + "pgtestkit-window-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/server.json"
        let lines = ServerLogReaderTests.line(1, at: 5) + ServerLogReaderTests.line(2, at: 20)
            + ServerLogReaderTests.line(3, at: 21, database: "pgtk_0a1b2c3d4e_1_x")   // a toolkit clone: not a finding
        try lines.write(toFile: path, atomically: false, encoding: .utf8)
        let audit = RunLogAudit(path: path, since: ServerLogReaderTests.base.addingTimeInterval(10))
        let findings = await audit.scan()
        #expect(findings.map(\.statement) == ["INSERT INTO t VALUES (2)"])
        #expect(findings.first?.kind == .writeToForeignDatabase)
        #expect(findings.first?.note?.contains("before this process's first test database was handed out") == true)
        #expect(await audit.scan().isEmpty)   // read once
    }

    @Test func aDatabaseTheToolkitCreatedIsNotForeignWhateverItsName() async throws {
        #expect(RunLogAudit.createdDatabase(in: #"CREATE DATABASE "seqtpl1d5ngeu" TEMPLATE template0"#) == "seqtpl1d5ngeu")
        #expect(RunLogAudit.createdDatabase(in: #"create database "odd""name" "#) == #"odd"name"#)
        #expect(RunLogAudit.createdDatabase(in: "CREATE DATABASE Scratch;") == "scratch")
        #expect(RunLogAudit.createdDatabase(in: "CREATE TABLE t (x int)") == nil)
        let directory = NSTemporaryDirectory() + "pgtestkit-window-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func line(_ seconds: Double, _ database: String, _ app: String, _ statement: String) -> String {
            #"{"timestamp":"\#(ServerLogReaderTests.timestamp(seconds))","dbname":"\#(database)","pid":7,"application_name":"\#(app)","error_severity":"LOG","message":"statement: \#(statement)"}"# + "\n"
        }
        let path = directory + "/server.json"
        try (line(11, "postgres", "pgtestkit-admin:0a1b2c3d4e", #"CREATE DATABASE \"scratchdb\" TEMPLATE template0"#)
            + line(12, "scratchdb", "psql", "CREATE SEQUENCE s")                     // the toolkit made it: not foreign
            + line(13, "postgres", "psql", "CREATE DATABASE devdb")                  // not the toolkit's (administration)
            + line(14, "devdb", "psql", "INSERT INTO t VALUES (1)"))                 // foreign
            .write(toFile: path, atomically: false, encoding: .utf8)
        let audit = RunLogAudit(path: path, since: ServerLogReaderTests.base.addingTimeInterval(10))
        let findings = await audit.scan()
        #expect(findings.map(\.database) == ["devdb"])
    }
}
