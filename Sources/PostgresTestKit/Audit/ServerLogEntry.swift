import Foundation

/// One line of the server's `jsonlog`, as far as the auditor needs it.
package struct ServerLogEntry: Sendable, Decodable, Hashable {
    /// The server's timestamp (`2026-11-24 15:34:09.461 UTC`).
    package let timestamp: String
    /// The database of the session, if any.
    package let dbname: String?
    /// The role of the session, if any.
    package let user: String?
    /// The backend's process id.
    package let pid: Int32?
    /// The session's `application_name`.
    package let applicationName: String?
    /// `LOG`, `ERROR`, ...
    package let severity: String?
    /// The SQLSTATE of an error entry.
    package let stateCode: SQLState?
    /// The message (`statement: INSERT ...`, `connection authorized: ...`).
    package let message: String?
    /// The statement an error entry refers to.
    package let statement: String?

    enum CodingKeys: String, CodingKey {
        case timestamp, dbname, user, pid, message, statement
        case applicationName = "application_name"
        case severity = "error_severity"
        case stateCode = "state_code"
    }

    /// The statement of a `log_statement` entry (`statement: …` or `execute <name>: …`).
    package var loggedStatement: String? {
        guard severity == "LOG", let message else { return nil }
        if message.hasPrefix("statement: ") { return String(message.dropFirst("statement: ".count)) }
        if message.hasPrefix("execute "), let colon = message.firstIndex(of: ":") {
            return String(message[message.index(after: colon)...]).trimmed
        }
        return nil
    }

    /// ``timestamp`` as a date (`nil` unless the log is written in UTC, as the embedded server's is).
    package var date: Date? { Self.date(fromTimestamp: timestamp) }

    /// Parses the log's `2026-11-24 15:34:09.461 UTC` (the embedded server logs in UTC).
    package static func date(fromTimestamp timestamp: String) -> Date? {
        guard timestamp.hasSuffix(" UTC") else { return nil }
        return PostgresDateFormat.parse(String(timestamp.dropLast(4)) + "+00")
    }

    /// The database of a `connection authorized: user=… database=…` entry.
    package var authorizedDatabase: String? {
        guard let message, message.hasPrefix("connection authorized:"),
              let range = message.range(of: " database=") else { return nil }
        return String(message[range.upperBound...].prefix(while: { $0 != " " }))
    }
}
