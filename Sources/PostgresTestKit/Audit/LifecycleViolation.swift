import Foundation

/// A premature write or other breach of the lifecycle order, with where it came from.
public struct LifecycleViolation: Sendable, Codable, Hashable, CustomStringConvertible {
    /// What kind of breach this is.
    public struct Kind: RawRepresentable, Sendable, Codable, Hashable, CustomStringConvertible {
        /// The kind's stable name in reports (`write_in_connect_hook`, ...).
        public let rawValue: String
        /// A kind by its stable name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A connect hook wrote (INSERT/UPDATE/DELETE, DDL, `nextval`, a writing function).
        public static let writeInConnectHook = Kind(rawValue: "write_in_connect_hook")
        /// A connect hook touched application tables before migrations had created them.
        public static let hookQueriedBeforeMigrations = Kind(rawValue: "hook_queried_before_migrations")
        /// Something wrote through the admin connection / to a maintenance database.
        public static let writeThroughAdminConnection = Kind(rawValue: "write_through_admin_connection")
        /// A write landed in a maintenance database (`postgres`, `template1`).
        public static let writeToMaintenanceDatabase = Kind(rawValue: "write_to_maintenance_database")
        /// A client wrote to a database before its migrations had finished.
        public static let writeBeforeMigrations = Kind(rawValue: "write_before_migrations")
        /// A write landed in a database the run did not create (the dev database, ...).
        public static let writeToForeignDatabase = Kind(rawValue: "write_to_foreign_database")
        /// A session connected to a database that existed before the run (audit command).
        public static let connectionToForeignDatabase = Kind(rawValue: "connection_to_foreign_database")
        /// A statement failed in a maintenance database because the app's tables (columns,
        /// functions, schemas) are not there: app code or a hook used the admin connection.
        public static let appQueryInMaintenanceDatabase = Kind(rawValue: "app_query_in_maintenance_database")
        /// A session was still connected to a test database when it was released.
        public static let leakedSession = Kind(rawValue: "leaked_session")
        /// A connect hook ended, replaced or tried to leave the read-only transaction the hook
        /// guard runs it in (`COMMIT`, `BEGIN READ WRITE`, `SET TRANSACTION READ WRITE`, ...).
        public static let hookEscapedGuard = Kind(rawValue: "hook_escaped_guard")
        /// A test in isolation `.transaction` ended the outer transaction of its sandbox
        /// (`COMMIT` in a multi-statement string, `COMMIT AND CHAIN`, `PREPARE TRANSACTION`, ...),
        /// committing to the clone shared with other tests; the clone was replaced.
        public static let transactionSandboxEscaped = Kind(rawValue: "transaction_sandbox_escaped")
        /// A stretch of the WAL the run audit could not read (recycled, the server gone, the
        /// process ending before the read): writes made in it were judged by the statement log
        /// alone. The finding names the stretch and the cause.
        public static let walNotAudited = Kind(rawValue: "wal_not_audited")

        public var description: String { rawValue }
    }

    /// What kind of breach.
    public var kind: Kind
    /// The phase the database was in.
    public var phase: Phase?
    /// The database written to.
    public var database: String
    /// The statement, if known (redacted).
    public var statement: String?
    /// The SQLSTATE the server answered with, if any (`25006` for a refused write).
    public var sqlState: SQLState?
    /// The server session (pid) that issued it, if known.
    public var sessionPID: Int32?
    /// The session's `application_name`, if known.
    public var applicationName: String?
    /// When it happened.
    public var time: Date
    /// The Swift line that registered the hook or seeder responsible, if known.
    public var source: RegistrationSite?
    /// Extra explanation and what to do.
    public var note: String?

    /// Creates a violation record.
    package init(
        kind: Kind, phase: Phase?, database: String, statement: String? = nil, sqlState: SQLState? = nil,
        sessionPID: Int32? = nil, applicationName: String? = nil, time: Date = Date(),
        source: RegistrationSite? = nil, note: String? = nil
    ) {
        self.kind = kind
        self.phase = phase
        self.database = database
        self.statement = statement.map { Redaction.redact($0) }
        self.sqlState = sqlState
        self.sessionPID = sessionPID
        self.applicationName = applicationName
        self.time = time
        self.source = source
        self.note = note
    }

    public var description: String {
        var text = "\(kind) in database \(database)"
        if let phase { text += " during phase \(phase)" }
        if let source { text += ", registered at \(source)" }
        if let statement { text += ": \(statement.prefix(300))" }
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let applicationName, !applicationName.isEmpty { text += " (session \(applicationName))" }
        if let note { text += " — \(note)" }
        return text
    }
}
