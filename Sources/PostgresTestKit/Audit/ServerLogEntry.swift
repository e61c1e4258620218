import Foundation

/// One line of the server's `jsonlog`, as far as the auditor needs it.
public struct ServerLogEntry: Sendable, Decodable, Hashable {
    /// The server's timestamp (`2026-11-24 15:34:09.461 UTC`).
    public let timestamp: String
    /// The database of the session, if any.
    public let dbname: String?
    /// The role of the session, if any.
    public let user: String?
    /// The backend's process id.
    public let pid: Int32?
    /// The session's `application_name`.
    public let applicationName: String?
    /// `LOG`, `ERROR`, ...
    public let severity: String?
    /// The SQLSTATE of an error entry.
    public let stateCode: String?
    /// The message (`statement: INSERT ...`, `connection authorized: ...`).
    public let message: String?
    /// The statement an error entry refers to.
    public let statement: String?

    enum CodingKeys: String, CodingKey {
        case timestamp, dbname, user, pid, message, statement
        case applicationName = "application_name"
        case severity = "error_severity"
        case stateCode = "state_code"
    }

    /// The statement of a `log_statement` entry (`statement: …` or `execute <name>: …`).
    public var loggedStatement: String? {
        guard severity == "LOG", let message else { return nil }
        if message.hasPrefix("statement: ") { return String(message.dropFirst("statement: ".count)) }
        if message.hasPrefix("execute "), let colon = message.firstIndex(of: ":") {
            return String(message[message.index(after: colon)...]).trimmed
        }
        return nil
    }

    /// The database of a `connection authorized: user=… database=…` entry.
    public var authorizedDatabase: String? {
        guard let message, message.hasPrefix("connection authorized:"),
              let range = message.range(of: " database=") else { return nil }
        return String(message[range.upperBound...].prefix(while: { $0 != " " }))
    }
}
