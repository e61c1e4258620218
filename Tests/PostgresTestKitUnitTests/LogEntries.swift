@testable import PostgresTestKit

/// Hand-built `jsonlog` entries for the audit tests: what the server would have logged,
/// without a server.
enum LogEntries {
    /// The timestamp every entry carries unless told otherwise (the server logs in UTC).
    static let timestamp = "2026-11-24 15:34:09.461 UTC"

    /// A `log_statement` line: `statement: <sql>` logged in `database`.
    static func statement(
        _ sql: String, in database: String, pid: Int32 = 1, application: String? = "app", timestamp: String = timestamp
    ) -> ServerLogEntry {
        entry(database, message: "statement: \(sql)", pid: pid, application: application, timestamp: timestamp)
    }

    /// An `ERROR` line for a failed `statement` with SQLSTATE `state`.
    static func error(_ state: String, _ message: String, statement: String?, in database: String, pid: Int32 = 1) -> ServerLogEntry {
        entry(database, message: message, pid: pid, severity: "ERROR", state: state, statement: statement)
    }

    /// A `connection authorized` line (its application name is only in the message).
    static func connection(to database: String, pid: Int32 = 1, application: String = "psql") -> ServerLogEntry {
        entry(database, message: "connection authorized: user=postgres database=\(database) application_name=\(application)",
              pid: pid, application: nil)
    }

    /// Any entry.
    static func entry(
        _ database: String?, message: String?, pid: Int32? = 1, application: String? = "app", severity: String? = "LOG",
        state: String? = nil, statement: String? = nil, timestamp: String = timestamp
    ) -> ServerLogEntry {
        ServerLogEntry(
            timestamp: timestamp, dbname: database, user: "postgres", pid: pid, applicationName: application,
            severity: severity, stateCode: state.map(SQLState.init(rawValue:)), message: message, statement: statement)
    }
}
