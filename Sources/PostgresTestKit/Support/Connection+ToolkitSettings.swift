import Logging

extension Connection {
    /// Opens a connection with the toolkit's waits: `connect_timeout` unless `PGCONNECT_TIMEOUT`
    /// sets one, and a full server waited out for `PGTESTKIT_CONNECT_WAIT`.
    ///
    /// - Parameters:
    ///   - connectionString: conninfo or URL; `PG*` variables fill in what it leaves out.
    ///   - database: overrides the database named in the string.
    ///   - applicationName: shown in `pg_stat_activity`.
    ///   - connectTimeout: seconds libpq waits for the server (`connect_timeout`).
    ///   - slotWait: how long a full server (SQLSTATE 53300) is waited out; `nil` reads
    ///     `PGTESTKIT_CONNECT_WAIT` (seconds, default 10).
    ///   - logger: receives statement traces (redacted).
    package static func connect(
        to connectionString: ConnectionString,
        database: String? = nil,
        applicationName: String? = nil,
        connectTimeout: Int = 10,
        slotWait: Duration? = nil,
        logger: Logger = Logger(label: "PostgresTestKit")
    ) async throws -> Connection {
        let settings = ToolkitSettings.process
        let waits = ConnectWaits(
            connectTimeout: settings.hasConnectTimeout ? nil : connectTimeout, slotWait: slotWait ?? settings.connectWait)
        return try await connect(
            to: connectionString, database: database, applicationName: applicationName, waits: waits, logger: logger)
    }
}
