import Foundation

/// Every setting the toolkit takes from its environment, parsed once from one dictionary and
/// passed down: the library reads the process's environment here and nowhere else (besides
/// ``Subprocess``, whose children inherit it).
///
/// A value that cannot be read is not ignored in silence: it is listed in ``unreadable``, and a
/// manager says so once, naming the variable, the value and the form it takes.
package struct ToolkitSettings: Sendable {
    /// The process's settings, parsed from its environment when first asked for.
    package static let process = ToolkitSettings(environment: ProcessInfo.processInfo.environment)

    /// The dictionary these settings were parsed from.
    package let environment: [String: String]

    // MARK: The manager

    /// The manager settings the environment sets (`PGTESTKIT_PREFIX`, `_AUDIT`, `_KEEP`,
    /// `_POOL_SIZE`, `_RECYCLE`, `_POOL_MAX`, `_WARM_POOL`, `_ADOPT_MAX_WAL`); they win over the code's.
    package var manager: TestDatabaseManager.Configuration
    /// `CI=true`: violations fail the run unless `PGTESTKIT_AUDIT` says otherwise.
    package var ci: Bool
    /// `PGTESTKIT_REBUILD=1`: build the template again even when one of its fingerprint exists.
    package var rebuildTemplate: Bool
    /// `PGTESTKIT_REAP_GRACE` (seconds, default 120): how old a dead run's databases must be
    /// before the start-up reaper drops them.
    package var reapGrace: Duration
    /// `PGTESTKIT_TEMPLATE_TTL` (`3600`, `90m`, `36h`, `7d`; default ``TemplateCollector/defaultTTL``),
    /// or the error that says what was wrong with it.
    package var templateTTL: Result<Duration, TestKitError>
    /// `PGTESTKIT_CREATE_CONNECTIONS`: the admin lanes of a manager, when set.
    package var createConnections: Int?
    /// `PGTESTKIT_CLONE_STRATEGY=wal_log|file_copy`: the clone strategy, measured when unset.
    package var cloneStrategy: CloneStrategy?

    // MARK: The server

    /// The server: `PGTESTKIT_URL`, `DATABASE_URL`, libpq's `PG*` variables, else the embedded one.
    package var server: PostgresServerConfiguration
    /// `PGTESTKIT_ALLOWED_HOSTS`: hosts allowed besides sockets and loopback.
    package var allowedHosts: HostAllowList
    /// `PGTESTKIT_PG_BINDIR`: where the server programs are, when set.
    package var binDirectory: String?
    /// `PGTESTKIT_DATA_DIR`: the embedded server's directory, when set.
    package var dataDirectory: String?
    /// `PGTESTKIT_TCP=1`: the embedded server listens on 127.0.0.1 too, with a password.
    package var tcp: Bool
    /// `PGTESTKIT_SERVER_USER` (default `postgres`): whom the embedded server runs as under root.
    package var serverUser: String
    /// `XDG_CACHE_HOME`: where the embedded server lives when there is no `/dev/shm`.
    package var cacheDirectory: String?
    /// `HOME`, under which that cache is otherwise (`~/.cache`); the password database's when unset.
    package var home: String?
    /// `PGTESTKIT_LOG_LIMIT_MB`: the size at which the embedded server's log is rotated.
    package var logLimitBytes: UInt64?
    /// `PATH`, where `pg_config` and `initdb` are looked for.
    package var path: String

    // MARK: Connections

    /// `PGTESTKIT_CONNECT_WAIT` (seconds, default 10): how long a connect waits for a free slot.
    package var connectWait: Duration
    /// Whether `PGCONNECT_TIMEOUT` is set: libpq then applies it, and the toolkit adds none.
    package var hasConnectTimeout: Bool

    // MARK: Reports

    /// `PGTESTKIT_REPORT`: where the JSON report goes (`%p`: the process id).
    package var reportPath: String?
    /// `PGTESTKIT_TIMELINE`: where the run's picture goes (`%p`: the process id).
    package var timelinePath: String?
    /// `PGTESTKIT_TIMELINE_ROWS`: the most test rows the picture keeps.
    package var timelineRows: Int?
    /// `GITHUB_ACTIONS=true`: violations are also printed as GitHub annotations.
    package var githubActions: Bool

    /// What could not be read, one line each (`PGTESTKIT_POOL_SIZE=many is not a number …`).
    package var unreadable: [String]

    /// Parses `environment`; nothing here fails: what cannot be read is left to its default
    /// and listed in ``unreadable``.
    package init(environment: [String: String]) {
        self.environment = environment
        var parser = Parser(environment: environment)
        manager = TestDatabaseManager.Configuration(
            prefix: parser.text("PGTESTKIT_PREFIX"),
            audit: parser.value("PGTESTKIT_AUDIT", expected: "one of fail, warn or off") { AuditPolicy(rawValue: $0.lowercased()) },
            keep: parser.value("PGTESTKIT_KEEP", expected: "one of none, failed or all") { KeepPolicy(rawValue: $0.lowercased()) },
            poolSize: parser.count("PGTESTKIT_POOL_SIZE"),
            recycle: parser.flag("PGTESTKIT_RECYCLE"),
            poolMax: parser.count("PGTESTKIT_POOL_MAX"),
            warmPool: parser.flag("PGTESTKIT_WARM_POOL"),
            adoptMaxWAL: parser.count("PGTESTKIT_ADOPT_MAX_WAL"))
        ci = environment["CI"]?.lowercased() == "true"
        rebuildTemplate = parser.flag("PGTESTKIT_REBUILD") ?? false
        reapGrace = .seconds(parser.count("PGTESTKIT_REAP_GRACE") ?? 120)
        if let text = parser.text("PGTESTKIT_TEMPLATE_TTL") {
            templateTTL = Result { try TemplateCollector.parseTTL(text) }.mapError { $0 as! TestKitError }
        } else {
            templateTTL = .success(TemplateCollector.defaultTTL)
        }
        createConnections = parser.count("PGTESTKIT_CREATE_CONNECTIONS").flatMap { $0 > 0 ? $0 : nil }
        cloneStrategy = parser.value("PGTESTKIT_CLONE_STRATEGY", expected: "one of wal_log or file_copy") { CloneStrategy(rawValue: $0.uppercased()) }

        server = PostgresServerConfiguration.resolving(environment)
        allowedHosts = HostAllowList(extraHosts: (environment["PGTESTKIT_ALLOWED_HOSTS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) })
        binDirectory = parser.text("PGTESTKIT_PG_BINDIR")
        dataDirectory = parser.text("PGTESTKIT_DATA_DIR")
        tcp = parser.flag("PGTESTKIT_TCP") ?? false
        serverUser = parser.text("PGTESTKIT_SERVER_USER") ?? "postgres"
        cacheDirectory = parser.text("XDG_CACHE_HOME")
        home = parser.text("HOME")
        logLimitBytes = parser.count("PGTESTKIT_LOG_LIMIT_MB").map { UInt64($0) << 20 }
        path = parser.text("PATH") ?? "/usr/bin:/bin"

        connectWait = parser.seconds("PGTESTKIT_CONNECT_WAIT") ?? .seconds(10)
        hasConnectTimeout = environment["PGCONNECT_TIMEOUT"] != nil

        reportPath = parser.text("PGTESTKIT_REPORT")
        timelinePath = parser.text("PGTESTKIT_TIMELINE")
        timelineRows = parser.count("PGTESTKIT_TIMELINE_ROWS")
        githubActions = environment["GITHUB_ACTIONS"] == "true"
        unreadable = parser.unreadable
    }

    /// The audit policy a manager whose code says `audit` runs with: the environment's, else
    /// the code's, else `.fail` under `CI=true`, else `.warn`.
    package func audit(code audit: AuditPolicy?) -> AuditPolicy {
        manager.audit ?? audit ?? (ci ? .fail : .warn)
    }

    /// The prefix of the process's WAL witness database: `PGTESTKIT_PREFIX`, else `pgtk`.
    package var witnessPrefix: String { manager.prefix ?? Self.defaultPrefix }

    /// The database name prefix when neither the environment nor the code gives one.
    package static let defaultPrefix = "pgtk"

    /// Reads the variables, remembering what it could not read.
    private struct Parser {
        let environment: [String: String]
        var unreadable: [String] = []

        /// The value, `nil` when unset or empty.
        func text(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }

        mutating func value<T>(_ name: String, expected: String, _ parse: (String) -> T?) -> T? {
            guard let text = text(name) else { return nil }
            guard let value = parse(text.trimmingCharacters(in: .whitespaces)) else {
                unreadable.append("\(name)=\(text) is not \(expected); it is ignored.")
                return nil
            }
            return value
        }

        /// A whole number of zero or more.
        mutating func count(_ name: String) -> Int? {
            value(name, expected: "a whole number (0, 1, 2, …)") { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        }

        /// `0` (and `false`, `no`, `off`) turn a setting off; `1` (and `true`, `yes`, `on`) on.
        mutating func flag(_ name: String) -> Bool? {
            value(name, expected: "1 or 0 (or true/false, yes/no, on/off)") {
                switch $0.lowercased() {
                case "1", "true", "yes", "on": true
                case "0", "false", "no", "off": false
                default: nil
                }
            }
        }

        mutating func seconds(_ name: String) -> Duration? {
            // Finite and at most a day: a larger wait is a typo, and would not fit a Duration.
            value(name, expected: "a number of seconds up to 86400 (10, 2.5)") {
                Double($0).flatMap { $0.isFinite && $0 >= 0 && $0 <= 86_400 ? .milliseconds(Int64($0 * 1000)) : nil }
            }
        }
    }
}
