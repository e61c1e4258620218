/// An error reported by libpq or by the PostgreSQL server, with the server's own fields.
///
/// The fields come from libpq's result fields (`PQresultErrorField`), never from parsing the
/// message text. The statement and every message are redacted: no password appears in them.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// A stable classification of a ``PGError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case connectionFailed, server, connectionClosed, cancelled, decoding, protocolViolation
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The connection could not be opened (bad host, wrong password, timeout, ...).
        public static let connectionFailed = Code(.connectionFailed)
        /// The server answered a statement with an error; see ``PGError/sqlState``.
        public static let server = Code(.server)
        /// The connection was lost or closed while in use.
        public static let connectionClosed = Code(.connectionClosed)
        /// The statement was cancelled because its task was cancelled.
        public static let cancelled = Code(.cancelled)
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// libpq returned something the toolkit did not expect.
        public static let protocolViolation = Code(.protocolViolation)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The five-character SQLSTATE, when the server sent one (`42P01`, `25006`, ...).
    public var sqlState: SQLState?
    /// The server's severity (`ERROR`, `FATAL`, ...).
    package var severity: String?
    /// The primary, human-readable message.
    public var message: String
    /// The server's detail line, if any.
    public var detail: String?
    /// The server's hint, if any.
    public var hint: String?
    /// The 1-based character position of the error in ``statement``, if the server gave one.
    package var position: Int?
    /// The statement that failed (redacted), if the error came from a statement.
    public var statement: String?
    /// The database the connection was talking to, if known.
    public var database: String?

    /// Creates an error; the toolkit makes these, users normally only read them.
    package init(
        code: Code, message: String, sqlState: SQLState? = nil, severity: String? = nil,
        detail: String? = nil, hint: String? = nil, position: Int? = nil,
        statement: String? = nil, database: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.severity = severity
        self.detail = detail
        self.hint = hint
        self.position = position
        self.statement = statement
        self.database = database
    }

    public var description: String {
        var text = "PGError.\(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let database { text += " (database \(database))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        if let position { text += "\nPOSITION: \(position)" }
        if let statement { text += "\nSTATEMENT: \(statement)" }
        return text
    }
}
