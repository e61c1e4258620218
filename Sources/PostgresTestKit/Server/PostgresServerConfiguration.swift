import Foundation
import Logging

/// Which PostgreSQL server the toolkit talks to.
///
/// Resolution order, first match wins: an explicit configuration in code; `PGTESTKIT_URL`;
/// `DATABASE_URL`; libpq's own `PG*` variables (`PGHOST`, `PGPORT`, `PGSERVICE`, ...: libpq reads
/// them itself, with `.pgpass` and service files); otherwise the embedded server. The
/// toolkit names its choice once in the log, with the password redacted.
public struct PostgresServerConfiguration: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case connectionString(ConnectionString)
        case embedded(dataDirectory: String?, tcp: Bool)
    }
    let kind: Kind
    /// Where this configuration came from (`PGTESTKIT_URL`, `code`, `embedded`, ...).
    public let source: String

    /// A server given by a libpq connection string or URL. Its database name is ignored for
    /// administration: the toolkit only ever administers through `postgres` / `template1`.
    public static func connectionString(_ string: String, source: String = "code") -> PostgresServerConfiguration {
        PostgresServerConfiguration(kind: .connectionString(ConnectionString(string)), source: source)
    }

    /// The embedded server, started on demand.
    public static let embedded = PostgresServerConfiguration(kind: .embedded(dataDirectory: nil, tcp: false), source: "embedded")

    /// The embedded TCP server: it also listens on 127.0.0.1, on a free port, with a password
    /// (scram-sha-256), for apps that only take a host and port (the same as `PGTESTKIT_TCP=1`).
    public static let embeddedTCP = PostgresServerConfiguration(kind: .embedded(dataDirectory: nil, tcp: true), source: "embedded (TCP)")

    /// A separate embedded server with its own data directory (its own socket and log).
    public static func embedded(dataDirectory: String) -> PostgresServerConfiguration {
        PostgresServerConfiguration(kind: .embedded(dataDirectory: dataDirectory, tcp: false), source: "embedded (\(dataDirectory))")
    }

    /// The embedded server this configuration names, or `nil` for another server.
    package func embeddedServer() async throws -> EmbeddedServer? {
        guard case .embedded(let directory, let tcp) = kind else { return nil }
        var settings = ToolkitSettings.process
        if let directory { settings.dataDirectory = directory }
        if tcp { settings.tcp = true }
        return try await EmbeddedServer.locate(settings: settings)
    }

    /// Whether this is the embedded server.
    public var isEmbedded: Bool {
        if case .embedded = kind { return true }
        return false
    }

    /// The variables of libpq that, when set, mean "use the server libpq points at".
    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGSERVICE", "PGSERVICEFILE"]

    /// The server the process's environment names (see the type's documentation).
    public static func fromEnvironment() -> PostgresServerConfiguration { ToolkitSettings.process.server }

    /// The server `environment` names (see the type's documentation).
    package static func resolving(_ environment: [String: String]) -> PostgresServerConfiguration {
        if let url = environment["PGTESTKIT_URL"], !url.isEmpty {
            return .connectionString(url, source: "PGTESTKIT_URL")
        }
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return .connectionString(url, source: "DATABASE_URL")
        }
        if let variable = libpqVariables.first(where: { !(environment[$0] ?? "").isEmpty }) {
            return .connectionString("", source: "libpq environment (\(variable) and other PG* variables)")
        }
        return .embedded
    }

    public var description: String {
        switch kind {
        case .connectionString(let string):
            string.raw.isEmpty ? source : "\(source) (\(string))"
        case .embedded(let directory, _):
            directory.map { "the embedded server in \($0)" } ?? "the embedded server"
        }
    }

    /// Returns a connection string for the server, starting the embedded server if needed.
    public func resolve(logger: Logger) async throws -> ConnectionString {
        switch kind {
        case .connectionString(let string):
            return string
        case .embedded:
            return try await embeddedServer()!.start(logger: logger)
        }
    }
}
