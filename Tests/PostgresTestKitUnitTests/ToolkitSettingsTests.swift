import Testing
@testable import PostgresTestKit

/// Every variable the toolkit reads, parsed from one dictionary: what each value gives, and
/// what an unreadable one leaves (its default, and a line that says so).
@Suite("ToolkitSettings")
struct ToolkitSettingsTests {
    /// One row: a variable, its value, what the settings must show, and whether it is unreadable.
    struct Row: Sendable, CustomTestStringConvertible {
        let variable: String
        let value: String
        let check: @Sendable (ToolkitSettings) -> Bool
        var unreadable = false
        var testDescription: String { "\(variable)=\(value)" }
    }

    static let rows: [Row] = [
        Row(variable: "PGTESTKIT_PREFIX", value: "ci7", check: { $0.manager.prefix == "ci7" && $0.witnessPrefix == "ci7" }),
        Row(variable: "PGTESTKIT_PREFIX", value: "", check: { $0.manager.prefix == nil && $0.witnessPrefix == "pgtk" }),
        Row(variable: "PGTESTKIT_AUDIT", value: "FAIL", check: { $0.manager.audit == .fail }),
        Row(variable: "PGTESTKIT_AUDIT", value: "fial", check: { $0.manager.audit == nil && $0.audit(code: nil) == .warn }, unreadable: true),
        Row(variable: "PGTESTKIT_KEEP", value: "failed", check: { $0.manager.keep == .failed }),
        Row(variable: "PGTESTKIT_KEEP", value: "some", check: { $0.manager.keep == nil }, unreadable: true),
        Row(variable: "PGTESTKIT_POOL_SIZE", value: "0", check: { $0.manager.poolSize == 0 }),
        Row(variable: "PGTESTKIT_POOL_SIZE", value: "-3", check: { $0.manager.poolSize == nil }, unreadable: true),
        Row(variable: "PGTESTKIT_POOL_SIZE", value: "many", check: { $0.manager.poolSize == nil }, unreadable: true),
        Row(variable: "PGTESTKIT_POOL_MAX", value: "12", check: { $0.manager.poolMax == 12 }),
        Row(variable: "PGTESTKIT_RECYCLE", value: "0", check: { $0.manager.recycle == false }),
        Row(variable: "PGTESTKIT_RECYCLE", value: "yes", check: { $0.manager.recycle == true }),
        Row(variable: "PGTESTKIT_RECYCLE", value: "maybe", check: { $0.manager.recycle == nil }, unreadable: true),
        Row(variable: "PGTESTKIT_WARM_POOL", value: "off", check: { $0.manager.warmPool == false }),
        Row(variable: "PGTESTKIT_ADOPT_MAX_WAL", value: "64", check: { $0.manager.adoptMaxWAL == 64 }),
        Row(variable: "CI", value: "true", check: { $0.ci && $0.audit(code: nil) == .fail }),
        Row(variable: "CI", value: "1", check: { !$0.ci && $0.audit(code: nil) == .warn }),
        Row(variable: "PGTESTKIT_REBUILD", value: "1", check: { $0.rebuildTemplate }),
        Row(variable: "PGTESTKIT_REAP_GRACE", value: "30", check: { $0.reapGrace == .seconds(30) }),
        Row(variable: "PGTESTKIT_REAP_GRACE", value: "soon", check: { $0.reapGrace == .seconds(120) }, unreadable: true),
        Row(variable: "PGTESTKIT_TEMPLATE_TTL", value: "36h", check: { (try? $0.templateTTL.get()) == .seconds(36 * 3600) }),
        Row(variable: "PGTESTKIT_TEMPLATE_TTL", value: "soon", check: {
            // A TTL that cannot be read fails every preparation (the collector must not guess).
            guard case .failure(let error) = $0.templateTTL else { return false }
            return error.code == .configuration && error.message.contains("90m, 36h, 7d")
        }),
        Row(variable: "PGTESTKIT_CREATE_CONNECTIONS", value: "3", check: { $0.createConnections == 3 }),
        Row(variable: "PGTESTKIT_CREATE_CONNECTIONS", value: "0", check: { $0.createConnections == nil }),
        Row(variable: "PGTESTKIT_CLONE_STRATEGY", value: "file_copy", check: { $0.cloneStrategy == .fileCopy }),
        Row(variable: "PGTESTKIT_CLONE_STRATEGY", value: "rsync", check: { $0.cloneStrategy == nil }, unreadable: true),
        Row(variable: "PGTESTKIT_URL", value: "postgres://u:pw@127.0.0.1/x", check: { $0.server.source == "PGTESTKIT_URL" && !$0.server.isEmbedded }),
        Row(variable: "DATABASE_URL", value: "postgres://u@127.0.0.1/x", check: { $0.server.source == "DATABASE_URL" }),
        Row(variable: "PGHOST", value: "/tmp", check: { $0.server.source.hasPrefix("libpq environment") }),
        Row(variable: "PGTESTKIT_ALLOWED_HOSTS", value: "ci-db, db2", check: { $0.allowedHosts.extraHosts == ["ci-db", "db2"] }),
        Row(variable: "PGTESTKIT_PG_BINDIR", value: "/opt/pg/bin", check: { $0.binDirectory == "/opt/pg/bin" }),
        Row(variable: "PGTESTKIT_DATA_DIR", value: "/dev/shm/x", check: { $0.dataDirectory == "/dev/shm/x" }),
        Row(variable: "PGTESTKIT_TCP", value: "1", check: { $0.tcp }),
        Row(variable: "PGTESTKIT_TCP", value: "tcp", check: { !$0.tcp }, unreadable: true),
        Row(variable: "PGTESTKIT_SERVER_USER", value: "pgrunner", check: { $0.serverUser == "pgrunner" }),
        Row(variable: "XDG_CACHE_HOME", value: "/c", check: { $0.cacheDirectory == "/c" }),
        Row(variable: "HOME", value: "/home/ci", check: { $0.home == "/home/ci" }),
        Row(variable: "PGTESTKIT_LOG_LIMIT_MB", value: "8", check: { $0.logLimitBytes == 8 << 20 }),
        Row(variable: "PATH", value: "/a:/b", check: { $0.path == "/a:/b" }),
        Row(variable: "PGTESTKIT_CONNECT_WAIT", value: "2.5", check: { $0.connectWait == .milliseconds(2500) }),
        Row(variable: "PGTESTKIT_CONNECT_WAIT", value: "long", check: { $0.connectWait == .seconds(10) }, unreadable: true),
        Row(variable: "PGTESTKIT_CONNECT_WAIT", value: "inf", check: { $0.connectWait == .seconds(10) }, unreadable: true),    // no trap
        Row(variable: "PGTESTKIT_CONNECT_WAIT", value: "1e20", check: { $0.connectWait == .seconds(10) }, unreadable: true),
        Row(variable: "PGTESTKIT_TEMPLATE_TTL", value: "999999999999999d", check: {
            guard case .failure(let error) = $0.templateTTL else { return false }   // no overflow trap
            return error.code == .configuration
        }),
        Row(variable: "PGCONNECT_TIMEOUT", value: "5", check: { $0.hasConnectTimeout }),
        Row(variable: "PGTESTKIT_REPORT", value: "/tmp/r-%p.json", check: { $0.reportPath == "/tmp/r-%p.json" }),
        Row(variable: "PGTESTKIT_TIMELINE", value: "/tmp/t.html", check: { $0.timelinePath == "/tmp/t.html" }),
        Row(variable: "PGTESTKIT_TIMELINE_ROWS", value: "50", check: { $0.timelineRows == 50 }),
        Row(variable: "GITHUB_ACTIONS", value: "true", check: { $0.githubActions }),
    ]

    @Test(arguments: rows)
    func eachVariableIsReadOnce(_ row: Row) {
        let settings = ToolkitSettings(environment: [row.variable: row.value])
        #expect(row.check(settings))
        if row.unreadable {
            #expect(settings.unreadable.count == 1)
            #expect(settings.unreadable.first?.hasPrefix("\(row.variable)=\(row.value) is not ") == true)
            #expect(settings.unreadable.first?.hasSuffix("; it is ignored.") == true)
        } else {
            #expect(settings.unreadable.isEmpty)
        }
    }

    @Test func anEmptyEnvironmentGivesTheDefaults() {
        let settings = ToolkitSettings(environment: [:])
        #expect(settings.manager == TestDatabaseManager.Configuration())
        #expect(settings.server.isEmbedded)
        #expect(!settings.ci && !settings.tcp && !settings.rebuildTemplate && !settings.githubActions && !settings.hasConnectTimeout)
        #expect(settings.reapGrace == .seconds(120) && settings.connectWait == .seconds(10))
        #expect((try? settings.templateTTL.get()) == TemplateCollector.defaultTTL)
        #expect(settings.serverUser == "postgres" && settings.path == "/usr/bin:/bin")
        #expect(settings.reportPath == nil && settings.timelinePath == nil && settings.unreadable.isEmpty)
    }

    @Test func everyVariableTheSettingsReadHasARow() throws {
        // A variable added to the sources without a row here is a setting parsed nowhere, or untested.
        let known = Set(Self.rows.map(\.variable))
        let documented = ["PGTESTKIT_DJANGO", "PGTESTKIT_POSTGRESKIT_URL"]   // printed for other clients, never read
        let sources = #filePath.replacingOccurrences(of: "Tests/PostgresTestKitUnitTests/ToolkitSettingsTests.swift", with: "Sources/PostgresTestKit/")
        let source = try ["Support/ToolkitSettings.swift", "Server/PostgresServerConfiguration.swift"]
            .map { try String(contentsOfFile: sources + $0, encoding: .utf8) }.joined()
        let read = Set(source.matches(of: /"(PGTESTKIT_[A-Z_]+)"/).map { String($0.output.1) })
        #expect(read.subtracting(known).isEmpty, "variables read without a row: \(read.subtracting(known).sorted())")
        #expect(known.filter { $0.hasPrefix("PGTESTKIT_") }.subtracting(read).isEmpty)
        #expect(!read.contains(where: documented.contains))
    }
}
