/// A five-character SQLSTATE, as the server sends it (`25006`, `42P01`), written as a string
/// literal where you compare one: `error.sqlState == "40001"`.
///
/// Encoded as its plain string, so reports and logs read as PostgreSQL's own documentation
/// ("Appendix A. PostgreSQL Error Codes").
public struct SQLState: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The five characters.
    public let rawValue: String

    /// A code by its five characters.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A code written as a literal: `"25006"`.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The class, its first two characters (`42`: syntax error or access rule violation).
    public var errorClass: Substring { rawValue.prefix(2) }

    public var description: String { rawValue }

    /// Decodes the plain string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes the plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// `25001`: a statement that must come first in a transaction came later (`SET TRANSACTION READ WRITE` after a query).
    package static let activeSQLTransaction: SQLState = "25001"
    /// `25006`: a write in a read-only transaction (the hook and database guards).
    package static let readOnlySQLTransaction: SQLState = "25006"
    /// `25P02`: the transaction failed and ignores commands until it ends.
    package static let inFailedSQLTransaction: SQLState = "25P02"
    /// `3D000`: no such database.
    package static let invalidCatalogName: SQLState = "3D000"
    /// `3F000`: no such schema.
    package static let invalidSchemaName: SQLState = "3F000"
    /// `42501`: the role lacks the privilege.
    package static let insufficientPrivilege: SQLState = "42501"
    /// `42703`: no such column.
    package static let undefinedColumn: SQLState = "42703"
    /// `42704`: no such object (a type, an extension, a role).
    package static let undefinedObject: SQLState = "42704"
    /// `42883`: no such function.
    package static let undefinedFunction: SQLState = "42883"
    /// `42P01`: no such table.
    package static let undefinedTable: SQLState = "42P01"
    /// `42P04`: the database already exists.
    package static let duplicateDatabase: SQLState = "42P04"
    /// `53100`: the server's disk is full.
    package static let diskFull: SQLState = "53100"
    /// `53200`: the server is out of memory.
    package static let outOfMemory: SQLState = "53200"
    /// `53300`: no free connection slot (`max_connections`, a role's or database's limit).
    package static let tooManyConnections: SQLState = "53300"
    /// `55006`: the object is in use (a database with sessions connected).
    package static let objectInUse: SQLState = "55006"
    /// `55P03`: a lock could not be taken (`NOWAIT`, `lock_timeout`).
    package static let lockNotAvailable: SQLState = "55P03"
    /// `57014`: the statement was cancelled.
    package static let queryCanceled: SQLState = "57014"
    /// `57P01`: the server is shutting down (or the session was terminated).
    package static let adminShutdown: SQLState = "57P01"
    /// `57P02`: the server crashed and is resetting every session.
    package static let crashShutdown: SQLState = "57P02"
    /// `57P03`: the server is starting up or cannot connect now.
    package static let cannotConnectNow: SQLState = "57P03"

    /// What a statement that used objects its database does not have answers with: no such
    /// table, column, function or schema — app code looking for the app's tables where they
    /// are not (a hook on the admin connection, or before migrations).
    package static let missingObject: Set<SQLState> = [.undefinedTable, .undefinedColumn, .undefinedFunction, .invalidSchemaName]
}
