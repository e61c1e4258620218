import Foundation

/// One test's own database, created by ``TestDatabaseManager/acquire(testName:isolation:)``.
///
/// Give ``connectionDetails`` (typed parts, and a URL PostgresKit and Fluent accept) or
/// ``url`` (libpq, `psql`, Python) to the app's own client;
/// use ``execute(_:_:)`` and ``scalar(_:_:as:)`` for assertions. Printing it never shows the
/// password.
public final class PostgresTestDatabase: Sendable, CustomStringConvertible {
    /// The database's name (`<prefix>_<run>_<n>_<test>`).
    public let name: String
    /// The test it belongs to, if known.
    public let testName: String?
    /// The keyword-form connection string (carries the password, if any; redacted when printed).
    package let connectionString: ConnectionString
    /// The database's address as typed parts: host or Unix-socket path, port, user, password,
    /// database, and ``ConnectionDetails/postgresKitURL`` for PostgresKit and Fluent.
    public let connectionDetails: ConnectionDetails
    /// The URL libpq, `psql` and Python stacks read (carries the password, if any); PostgresKit
    /// and Fluent take ``ConnectionDetails/postgresKitURL`` instead.
    public var url: String { connectionDetails.url }
    /// The toolkit's connection to the database, for assertions.
    public let connection: Connection
    /// The database's phase history.
    public let phases: PhaseLog
    /// Whether it came ready-made from the pool.
    public let fromPool: Bool
    /// How this test is isolated: its own database, or a rolled-back transaction.
    public let isolation: Isolation
    let manager: TestDatabaseManager

    /// The database of the test running now, set by the Swift Testing trait.
    @TaskLocal public static var current: PostgresTestDatabase?

    init(name: String, testName: String?, connectionString: ConnectionString, connectionDetails: ConnectionDetails,
         connection: Connection, phases: PhaseLog, fromPool: Bool, isolation: Isolation, manager: TestDatabaseManager) {
        self.name = name
        self.testName = testName
        self.connectionString = connectionString
        self.connectionDetails = connectionDetails
        self.connection = connection
        self.phases = phases
        self.fromPool = fromPool
        self.isolation = isolation
        self.manager = manager
    }

    /// The URL with the password masked, safe to print.
    public var redactedURL: String { Redaction.redact(url) }

    public var description: String { "PostgresTestDatabase(\(name), \(redactedURL))" }

    /// Runs one statement with bind parameters on the toolkit's connection.
    @discardableResult
    public func execute(_ sql: String, _ parameters: (any PGBindable)?...) async throws -> QueryResult {
        try await connection.execute(sql, parameters: parameters)
    }

    /// Runs a statement and decodes the first column of its first row.
    public func scalar<T: PGDecodable>(_ sql: String, _ parameters: (any PGBindable)?..., as type: T.Type) async throws -> T {
        try await connection.scalar(sql, parameters: parameters, as: type)
    }

    /// Runs a multi-statement script on the toolkit's connection.
    @discardableResult
    public func simpleQuery(_ script: String) async throws -> QueryResult {
        try await connection.simpleQuery(script)
    }

    /// Adds the time since the database became ready to the run's "in tests" total, and
    /// draws it as the test's bar on its timeline row.
    func recordTestTime() {
        guard let ready = phases.events.last(where: { $0.phase == .ready }) else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(ready.start) * 1000
        let (row, span) = (phases.timelineRow, TimelineSpan(.test, from: ready.start, to: now))
        RunReport.shared.update {
            $0.testMilliseconds += elapsed
            $0.timeline.add(span, to: row)
        }
    }

    /// Hands the database back to its manager (see ``TestDatabaseManager/release(_:testFailed:)``).
    public func release(testFailed: Bool = false) async throws {
        try await manager.release(self, testFailed: testFailed)
    }
}
