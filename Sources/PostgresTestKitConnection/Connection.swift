import CLibPQ
import Foundation
import Logging

/// One libpq connection with an async API.
///
/// Every blocking libpq call runs on the connection's own serial executor (a dispatch queue),
/// never on Swift's cooperative thread pool. Statements take real bind parameters; task
/// cancellation is sent to the server with `PQcancel`.
///
/// ```swift
/// let db = try await Connection.connect(to: ConnectionString("postgres://me@localhost/app"), waits: .init())
/// let n = try await db.scalar("SELECT count(*) FROM users WHERE name = $1", "ann", as: Int.self)
/// ```
public actor Connection {
    private nonisolated let executor: ConnectionExecutor
    /// The connection's serial executor; all of its isolated code runs there.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private var handle: OpaquePointer?
    private let canceller = Canceller()
    private let notices = NoticeCollector()
    private var secrets: [String] = []
    private var databaseName = ""
    private let logger: Logger
    /// A savepoint sandbox's state: its savepoint rewriting, and what an escape from it fails with.
    private struct Sandbox {
        var rewriter: SavepointRewriter
        let escapeError: @Sendable (SandboxEscape) -> any Error
    }
    /// The sandbox while the connection is a savepoint sandbox; `nil` otherwise.
    private var sandbox: Sandbox?
    /// Set once a statement ended the sandbox's outer transaction: every later statement is
    /// refused with its error, until ``leaveSavepointSandbox()``.
    private var sandboxEscape: (escape: SandboxEscape, error: any Error)?

    private init(label: String, logger: Logger) {
        self.executor = ConnectionExecutor(label: label)
        self.logger = logger
    }

    /// How long a connect waits: for the server to answer, and for a free connection slot.
    package struct ConnectWaits: Sendable {
        /// Seconds libpq waits for the server (`connect_timeout`), added unless the connection
        /// string sets one; `nil` adds none (libpq then applies `PGCONNECT_TIMEOUT`, if set).
        package var connectTimeout: Int?
        /// How long a full server (SQLSTATE 53300) is waited out before the connect fails.
        package var slotWait: Duration

        /// Waits of `connectTimeout` seconds for the server and `slotWait` for a slot.
        package init(connectTimeout: Int? = 10, slotWait: Duration = .seconds(10)) {
            self.connectTimeout = connectTimeout
            self.slotWait = slotWait
        }
    }

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - connectionString: conninfo or URL; `PG*` variables fill in what it leaves out.
    ///   - database: overrides the database named in the string.
    ///   - applicationName: shown in `pg_stat_activity`.
    ///   - waits: how long libpq waits for the server, and a full server is waited out.
    ///   - logger: receives statement traces (redacted).
    package static func connect(
        to connectionString: ConnectionString,
        database: String? = nil,
        applicationName: String? = nil,
        waits: ConnectWaits,
        logger: Logger = Logger(label: "PostgresTestKit")
    ) async throws -> Connection {
        let slotWait = waits.slotWait
        var overrides: [(String, String)] = [("dbname", connectionString.raw)]
        if let database { overrides.append(("dbname", database)) }
        if let applicationName { overrides.append(("application_name", applicationName)) }
        if let connectTimeout = waits.connectTimeout, !connectionString.raw.contains("connect_timeout") {
            overrides.append(("connect_timeout", String(connectTimeout)))
        }
        // A full server (max_connections, or a role's CONNECTION LIMIT) is waited out with
        // back-pressure up to `slotWait`, then reported as SQLSTATE 53300 with what to do.
        let deadline = ContinuousClock.now + slotWait
        var delay = Duration.milliseconds(20)
        while true {
            let connection = Connection(label: database ?? "default", logger: logger)
            do {
                try await connection.open(overrides, description: connectionString.description)
                return connection
            } catch var error as PGError where error.sqlState == .tooManyConnections {
                guard ContinuousClock.now + delay < deadline else {
                    error.message += " (waited \(slotWait) for a free connection slot)"
                    throw error
                }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(500))
            }
        }
    }

    /// What to do about the server errors that are about the server, not the statement.
    static func hint(forSQLState state: SQLState) -> String? {
        switch state {
        case .diskFull: "The server's disk is full: free space where its data directory is."
        case .outOfMemory: "The server ran out of memory: lower the parallelism."
        case .tooManyConnections: "The server has no free connection slot: close leaked connections, lower the parallelism, or raise max_connections."
        case .cannotConnectNow: "The server is starting up or shutting down; try again in a moment."
        default: nil
        }
    }

    /// Whether an error means the session is gone: a libpq-made error about the socket, or the
    /// server's shutdown / crash codes (57P01, 57P02, 57P03).
    static func meansConnectionLost(_ error: PGError) -> Bool {
        if let state = error.sqlState { return [.adminShutdown, .crashShutdown, .cannotConnectNow].contains(state) }
        return ["server closed the connection", "no connection to the server", "could not receive data",
                "could not send data", "terminating connection"].contains { error.message.contains($0) }
    }

    /// libpq gives no SQLSTATE for a refused connection; these server messages mean 53300.
    static func isSlotExhaustion(_ message: String) -> Bool {
        message.contains("too many clients") || message.contains("remaining connection slots")
            || message.contains("too many connections for role") || message.contains("too many connections for database")
    }

    private func open(_ parameters: [(String, String)], description: String) throws {
        let keywords = parameters.map(\.0)
        let values = parameters.map(\.1)
        let conn: OpaquePointer? = withCStrings(keywords) { kw in
            withCStrings(values) { vals in PQconnectdbParams(kw, vals, 1) }
        }
        guard let conn else {
            throw PGError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        if let password = PQpass(conn), password.pointee != 0 {
            secrets.append(String(cString: password))
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmed
            PQfinish(conn)
            throw PGError(
                code: .connectionFailed,
                message: "could not connect to \(description): \(Redaction.redact(message, secrets: secrets))",
                sqlState: Self.isSlotExhaustion(message) ? .tooManyConnections : nil,
                hint: Self.connectionHint(for: message))
        }
        handle = conn
        databaseName = String(cString: PQdb(conn))
        canceller.install(PQgetCancel(conn))
        PQsetNoticeReceiver(conn, { context, result in
            guard let context, let result else { return }
            let collector = Unmanaged<NoticeCollector>.fromOpaque(context).takeUnretainedValue()
            func field(_ code: Character) -> String? {
                PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
            }
            collector.append(Notice(
                severity: field("S") ?? "NOTICE", sqlState: field("C").map(SQLState.init(rawValue:)), message: field("M") ?? ""))
        }, Unmanaged.passUnretained(notices).toOpaque())
    }

    private static func connectionHint(for message: String) -> String? {
        if message.contains("password authentication failed") || message.contains("no password supplied") {
            return "Check the user and password in the connection string, PGPASSWORD or ~/.pgpass."
        }
        if message.contains("timeout expired") || message.contains("Connection refused")
            || message.contains("No such file or directory") || message.contains("could not translate host name") {
            return "Is the server running and reachable at that host and port?"
        }
        if isSlotExhaustion(message) {
            return "The server has no free connection slot (SQLSTATE 53300: max_connections or the role's CONNECTION LIMIT): close leaked connections, lower the parallelism, or raise max_connections."
        }
        return nil
    }

    isolated deinit {
        canceller.release()
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection; later statements fail with `.connectionClosed`.
    package func close() {
        canceller.release()
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether the connection is open and healthy, as libpq last saw it.
    package var isOpen: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Fails with `.connectionClosed` when the server closed this idle connection (a restart,
    /// a terminated session), found without a round trip: libpq reads what the server sent
    /// (its last message, then the end of the stream) without blocking.
    package func checkStillOpen() throws {
        guard let handle else { throw closedError(nil) }
        // A server going away sends its FATAL message, then closes: the first read may take
        // only the message, the second meets the end of the stream.
        for _ in 0..<2 {
            if PQconsumeInput(handle) == 0 { break }
        }
        // Parsing what was read hands an idle session's error (the FATAL that came before the
        // end of the stream) to the notice receiver.
        _ = PQisBusy(handle)
        let ended = notices.snapshot().contains {
            $0.severity == "FATAL" || $0.severity == "PANIC" || $0.sqlState?.rawValue.hasPrefix("57P") == true
        }
        guard PQstatus(handle) == CONNECTION_OK, !ended else {
            throw PGError(
                code: .connectionClosed, message: "the server closed the connection",
                hint: "The server may have stopped or restarted, or terminated this session.", database: databaseName)
        }
    }

    /// The name of the database this connection is attached to.
    public var database: String { databaseName }

    /// The server's version number (`150018` for 15.18).
    package var serverVersion: Int { handle.map { Int(PQserverVersion($0)) } ?? 0 }

    /// The process id of the server backend serving this connection.
    package var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// The connection's effective parameters (host, port, user, password, dbname, ...), as
    /// libpq resolved them from the string, the environment and `.pgpass`.
    package func effectiveParameters() -> [String: String] {
        guard let handle, let options = PQconninfo(handle) else { return [:] }
        defer { PQconninfoFree(options) }
        var parameters = ConnectionString.collect(options)
        // The host, port and user actually in use (libpq's defaults when none was given).
        if let host = PQhost(handle).map({ String(cString: $0) }), !host.isEmpty { parameters["host"] = host }
        if let port = PQport(handle).map({ String(cString: $0) }), !port.isEmpty { parameters["port"] = port }
        if parameters["user"] == nil, let user = PQuser(handle).map({ String(cString: $0) }), !user.isEmpty { parameters["user"] = user }
        return parameters
    }

    /// Notices received so far (kept until ``drainNotices()``).
    package var receivedNotices: [Notice] { notices.snapshot() }

    /// Returns and forgets the notices received so far.
    package func drainNotices() -> [Notice] { notices.drain() }

    /// Runs one statement with bind parameters (`$1`, `$2`, ...).
    @discardableResult
    public func execute(_ sql: String, _ parameters: (any PGBindable)?...) async throws -> QueryResult {
        try await execute(sql, parameters: parameters)
    }

    /// Runs one statement with bind parameters given as an array.
    @discardableResult
    package func execute(_ sql: String, parameters: [(any PGBindable)?]) async throws -> QueryResult {
        let token = canceller.token()
        return try await withTaskCancellationHandler {
            try self.run(sql, parameters: parameters, token: token)
        } onCancel: { [canceller] in
            canceller.cancel(token)
        }
    }

    /// Runs a script of several statements with the simple-query protocol (no parameters)
    /// and returns the result of the last one.
    @discardableResult
    public func simpleQuery(_ script: String) async throws -> QueryResult {
        let token = canceller.token()
        return try await withTaskCancellationHandler {
            try self.runScript(script, token: token)
        } onCancel: { [canceller] in
            canceller.cancel(token)
        }
    }

    /// Runs a statement and decodes the first column of its first row.
    public func scalar<T: PGDecodable>(
        _ sql: String, _ parameters: (any PGBindable)?..., as type: T.Type
    ) async throws -> T {
        try await scalar(sql, parameters: parameters, as: type)
    }

    /// Runs a statement with bind parameters given as an array and decodes the first column of its first row.
    package func scalar<T: PGDecodable>(_ sql: String, parameters: [(any PGBindable)?], as type: T.Type) async throws -> T {
        let result = try await execute(sql, parameters: parameters)
        guard let row = result.rows.first else {
            throw PGError(code: .decoding, message: "the statement returned no rows", statement: Redaction.redact(sql, secrets: secrets), database: database)
        }
        return try row.decode(T.self, at: 0)
    }

    /// Quotes an identifier with `PQescapeIdentifier` (`"my ""table"""`).
    package func quoteIdentifier(_ identifier: String) throws -> String {
        try escape(identifier, PQescapeIdentifier)
    }

    /// Quotes a string literal with `PQescapeLiteral` (`'it''s'`).
    package func quoteLiteral(_ literal: String) throws -> String {
        try escape(literal, PQescapeLiteral)
    }

    private func escape(
        _ text: String,
        _ function: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> UnsafeMutablePointer<CChar>?
    ) throws -> String {
        guard let handle else { throw closedError(nil) }
        let length = text.utf8.count
        guard let escaped = function(handle, text, length) else {
            throw PGError(code: .protocolViolation, message: String(cString: PQerrorMessage(handle)).trimmed)
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Makes the connection a savepoint sandbox: it opens the outer transaction, and from now
    /// on `BEGIN`, `COMMIT` and `ROLLBACK` sent through it become savepoint operations inside
    /// that transaction (see ``SavepointRewriter``). A statement that ends the outer
    /// transaction anyway fails with what `escapeError` makes of the escape, and so does every
    /// later statement until ``leaveSavepointSandbox()``.
    package func enterSavepointSandbox(escapeError: @escaping @Sendable (SandboxEscape) -> any Error) throws {
        sandbox = nil
        sandboxEscape = nil
        _ = try run("BEGIN")
        sandbox = Sandbox(rewriter: SavepointRewriter(), escapeError: escapeError)
    }

    /// Ends the sandbox and rolls its outer transaction back (whatever transaction is open).
    ///
    /// - Returns: how the outer transaction was ended, if a statement ended it (the work after
    ///   that point is not undone by this rollback), or it was found ended now (then without
    ///   a statement). `nil` when the outer transaction was intact.
    package func leaveSavepointSandbox() throws -> SandboxEscape? {
        var escape = sandboxEscape?.escape
        if escape == nil, sandbox != nil, let handle, PQtransactionStatus(handle) == PQTRANS_IDLE {
            escape = SandboxEscape(reason: "the outer transaction ended", statement: nil, database: databaseName, underlying: nil)
        }
        sandbox = nil
        sandboxEscape = nil
        _ = try run("ROLLBACK")
        return escape
    }

    /// Runs one statement synchronously on the connection's executor.
    func run(_ sql: String, parameters: [(any PGBindable)?] = [], token: UInt64? = nil) throws -> QueryResult {
        if let sandboxEscape { throw sandboxEscape.error }
        var sql = sql
        if var sandbox {
            let rewrite = sandbox.rewriter.rewrite(sql)
            self.sandbox = sandbox
            if rewrite.isScript { return try send(script: rewrite.sql, token: token) }
            sql = rewrite.sql
        }
        guard let handle else { throw closedError(sql) }
        let token = try beginStatement(sql, token)
        defer { canceller.finish(token) }
        let types = parameters.map { ($0 as? any PGTypedBindable)?.postgresType.rawValue ?? 0 }
        let texts = parameters.map { $0?.postgresText }
        let sent = withOptionalCStrings(texts) { values in
            PQsendQueryParams(handle, sql, Int32(parameters.count), types, values, nil, nil, 0)
        }
        return try finishStatement(sent, sql, token)
    }

    /// Runs a multi-statement script synchronously on the connection's executor.
    func runScript(_ script: String, token: UInt64? = nil) throws -> QueryResult {
        if let sandboxEscape { throw sandboxEscape.error }
        var script = script
        if var sandbox {
            script = sandbox.rewriter.rewrite(script).sql
            self.sandbox = sandbox
        }
        return try send(script: script, token: token)
    }

    private func send(script: String, token: UInt64?) throws -> QueryResult {
        guard let handle else { throw closedError(script) }
        let token = try beginStatement(script, token)
        defer { canceller.finish(token) }
        return try finishStatement(PQsendQuery(handle, script), script, token)
    }

    private func beginStatement(_ sql: String, _ token: UInt64?) throws -> UInt64 {
        let token = token ?? canceller.token()
        let started = canceller.start(token)   // consumes a cancellation recorded before the start
        if Task.isCancelled || !started {
            if started { canceller.finish(token) }
            throw PGError(code: .cancelled, message: "the task was cancelled before the statement was sent", statement: Redaction.redact(sql, secrets: secrets))
        }
        logger.trace("statement", metadata: ["db": "\(databaseName)", "sql": "\(Redaction.redact(sql, secrets: secrets))"])
        return token
    }

    private func finishStatement(_ sent: Int32, _ sql: String, _ token: UInt64) throws -> QueryResult {
        guard let handle else { throw closedError(sql) }
        guard sent == 1 else { throw connectionError(handle, sql) }
        var outcome: Result<QueryResult, PGError>?
        var cancelRequested = false
        var tags: [String] = []
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if sandbox != nil, status == PGRES_COMMAND_OK { tags.append(String(cString: PQcmdStatus(result))) }
            if status == PGRES_COPY_IN {
                _ = PQputCopyEnd(handle, "COPY FROM STDIN is not supported by PostgresTestKit")
            } else if status == PGRES_COPY_OUT {
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(handle, &buffer, 0) > 0 { PQfreemem(buffer) }
            } else if status == PGRES_COPY_BOTH {
                // libpq stays in COPY mode: the connection cannot be used again.
                close()
                throw PGError(code: .protocolViolation, message: "COPY BOTH (replication) is not supported; the connection was closed", statement: Redaction.redact(sql, secrets: secrets))
            }
            let converted = convert(result, sql)
            if case .failure(let error) = converted, error.sqlState == .queryCanceled, canceller.wasCancelled(token) { cancelRequested = true }
            if case .failure = outcome {} else { outcome = converted }
        }
        if cancelRequested, case .failure(var error) = outcome, error.sqlState == .queryCanceled {
            error.code = .cancelled
            outcome = .failure(error)
        }
        if let sandbox, let reason = SavepointRewriter.escape(
            commandTags: tags, inTransaction: PQtransactionStatus(handle) != PQTRANS_IDLE, sql: sql) {
            var underlying: PGError?
            if case .failure(let error) = outcome { underlying = error }
            let escape = SandboxEscape(
                reason: reason, statement: Redaction.redact(sql, secrets: secrets), database: databaseName, underlying: underlying)
            let error = sandbox.escapeError(escape)
            sandboxEscape = (escape, error)
            throw error
        }
        switch outcome {
        case .success(let result): return result
        case .failure(var error):
            if Self.meansConnectionLost(error) || (error.sqlState == nil && PQstatus(handle) != CONNECTION_OK) {
                error.code = .connectionClosed
                error.hint = "The server may have stopped or restarted, or terminated this session."
            }
            throw error
        case nil: throw connectionError(handle, sql)
        }
    }

    private func convert(_ result: OpaquePointer, _ sql: String) -> Result<QueryResult, PGError> {
        let status = PQresultStatus(result)
        if status == PGRES_COPY_OUT || status == PGRES_COPY_IN {
            // The copy data was drained (or refused); the command's own result follows.
            return .success(QueryResult(columns: [], columnTypes: [], rows: [], commandTag: "COPY", affectedRows: nil))
        }
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            return .success(decodeRows(result))
        }
        if status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR {
            return .failure(serverError(result, sql))
        }
        return .failure(PGError(
            code: .protocolViolation,
            message: "unsupported result status \(String(cString: PQresStatus(status))) (COPY is not supported)",
            statement: Redaction.redact(sql, secrets: secrets)))
    }

    private func decodeRows(_ result: OpaquePointer) -> QueryResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { PQfname(result, Int32($0)).map { String(cString: $0) } ?? "" }
        let types = (0..<columnCount).map { PostgresType(rawValue: PQftype(result, Int32($0))) }
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<Int32(rowCount) {
            let values: [String?] = (0..<Int32(columnCount)).map { c in
                PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
            }
            rows.append(Row(columns: columns, types: types, values: values))
        }
        let tag = String(cString: PQcmdStatus(result))
        let affected = Int(String(cString: PQcmdTuples(result)))
        return QueryResult(columns: columns, columnTypes: types, rows: rows, commandTag: tag, affectedRows: affected)
    }

    private func serverError(_ result: OpaquePointer, _ sql: String) -> PGError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map {
                Redaction.redact(String(cString: $0), secrets: secrets)
            }
        }
        let sqlState = field("C").map(SQLState.init(rawValue:))
        var code = PGError.Code.server
        if let handle, PQstatus(handle) != CONNECTION_OK { code = .connectionClosed }
        let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmed
        let hints = [field("H"), sqlState.flatMap(Self.hint(forSQLState:))].compactMap { $0 }
        let hint = hints.isEmpty ? nil : hints.joined(separator: " ")
        return PGError(
            code: code, message: Redaction.redact(message, secrets: secrets), sqlState: sqlState,
            severity: field("V") ?? field("S"), detail: field("D"), hint: hint,
            position: field("P").flatMap { Int($0) }, statement: Redaction.redact(sql, secrets: secrets),
            database: databaseName)
    }

    private func connectionError(_ handle: OpaquePointer, _ sql: String) -> PGError {
        let message = Redaction.redact(String(cString: PQerrorMessage(handle)).trimmed, secrets: secrets)
        let lost = PQstatus(handle) != CONNECTION_OK
        return PGError(
            code: lost ? .connectionClosed : .protocolViolation,
            message: message.isEmpty ? "the server closed the connection" : message,
            hint: lost ? "The server may have stopped or restarted, or terminated this session." : nil,
            statement: Redaction.redact(sql, secrets: secrets), database: databaseName)
    }

    private func closedError(_ sql: String?) -> PGError {
        PGError(
            code: .connectionClosed, message: "the connection is closed",
            statement: sql.map { Redaction.redact($0, secrets: secrets) }, database: databaseName)
    }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) } + [nil])
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
