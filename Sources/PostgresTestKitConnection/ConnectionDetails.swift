/// The parts of a database's address, typed, for clients that do not speak libpq.
///
/// PostgresNIO, PostgresKit and Fluent take a host and port, or a Unix-socket path, plus a
/// user, a password and a database. ``url`` is the libpq form (`psql`, libpq, Python stacks);
/// ``postgresKitURL`` is the form PostgresKit's `SQLPostgresConfiguration(url:)` and Fluent's
/// `.postgres(url:)` accept. Over TCP both are the same string. Printing a value never shows
/// the password.
public struct ConnectionDetails: Sendable, Hashable, CustomStringConvertible {
    /// The TCP host name or address; `nil` when the server is reached through a Unix socket.
    public let host: String?
    /// The directory holding the Unix socket (libpq's `host` for a socket); `nil` over TCP.
    public let socketDirectory: String?
    /// The port (over TCP), or the number in the socket file's name (`.s.PGSQL.<port>`).
    public let port: Int
    /// The database user.
    public let user: String
    /// The password, if the server needs one (the embedded server over TCP does).
    public let password: String?
    /// The database name.
    public let database: String
    /// libpq's `sslmode` over TCP: `disable` for a loopback host unless TLS was required.
    let sslMode: String

    /// Builds details from parts; `host` starting with `/` names a socket directory.
    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String) {
        self.init(host: host, port: port, user: user, password: password, database: database, sslMode: nil)
    }

    init(host: String, port: Int, user: String, password: String?, database: String, sslMode: String?) {
        if host.hasPrefix("/") {
            self.host = nil
            self.socketDirectory = host
        } else {
            self.host = host
            self.socketDirectory = nil
        }
        self.port = port
        let loopback = ["localhost", "127.0.0.1", "::1"].contains(host) || host.hasPrefix("127.")
        let weak = [nil, "disable", "allow", "prefer"].contains(sslMode)
        self.sslMode = weak && loopback ? "disable" : sslMode ?? "prefer"
        self.user = user
        self.password = password
        self.database = database
    }

    /// Builds details from libpq's resolved parameters (`host`, `port`, `user`, `password`,
    /// `dbname`), filling libpq's defaults for what is missing.
    package init(parameters: [String: String]) {
        let host = parameters["host"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/run/postgresql"
        self.init(
            host: host.split(separator: ",").first.map(String.init) ?? host,
            port: parameters["port"].flatMap { Int($0.split(separator: ",").first ?? "") } ?? 5432,
            user: parameters["user"] ?? "postgres",
            password: parameters["password"].flatMap { $0.isEmpty ? nil : $0 },
            database: parameters["dbname"] ?? "postgres",
            sslMode: parameters["sslmode"])
    }

    /// The full path of the Unix socket (`<directory>/.s.PGSQL.<port>`), as PostgresNIO's
    /// `PostgresClient.Configuration(unixSocketPath:…)` wants it; `nil` over TCP.
    public var unixSocketPath: String? {
        socketDirectory.map { "\($0)/.s.PGSQL.\(port)" }
    }

    /// The same server and user, another database.
    package func with(database: String) -> ConnectionDetails {
        ConnectionDetails(host: host ?? socketDirectory!, port: port, user: user, password: password, database: database, sslMode: sslMode)
    }

    /// The same address without the password, for what is printed or exported (libpq then
    /// takes `PGPASSWORD` or a `.pgpass` file).
    package var withoutPassword: ConnectionDetails {
        ConnectionDetails(host: host ?? socketDirectory!, port: port, user: user, password: nil, database: database, sslMode: sslMode)
    }

    /// The libpq keyword form, every value quoted.
    package var connectionString: ConnectionString {
        var parameters = ["host": host ?? socketDirectory!, "port": String(port), "user": user, "dbname": database]
        if let password { parameters["password"] = password }
        if host != nil { parameters["sslmode"] = sslMode }
        return .keywordForm(parameters)
    }

    /// The URL that libpq, `psql` and Python stacks read (`DATABASE_URL`).
    ///
    /// Over TCP: `postgresql://USER@HOST:PORT/DB?sslmode=disable`, the password (when there is
    /// one) after the user and a colon; `disable` for a loopback host unless TLS was asked for. Over a socket:
    /// `postgresql://user@/db?host=<directory>&port=<port>`, as libpq documents it.
    public var url: String {
        let credentials = Self.encode(user) + (password.map { ":" + Self.encode($0) } ?? "") + "@"
        if let host {
            let authority = host.contains(":") ? "[\(host)]" : host
            return "postgresql://\(credentials)\(authority):\(port)/\(Self.encode(database))?sslmode=\(sslMode)"
        }
        return "postgresql://\(credentials)/\(Self.encode(database))?host=\(Self.encode(socketDirectory!))&port=\(port)"
    }

    /// The URL PostgresKit's `SQLPostgresConfiguration(url:)` and Fluent's `.postgres(url:)`
    /// accept: ``url`` over TCP; over a socket,
    /// `postgresql+uds://user@localhost/<directory>/.s.PGSQL.<port>#<database>`, which libpq
    /// does not read.
    public var postgresKitURL: String {
        guard let socketPath = unixSocketPath else { return url }
        let credentials = Self.encode(user) + (password.map { ":" + Self.encode($0) } ?? "") + "@"
        let path = socketPath.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/")
        return "postgresql+uds://\(credentials)localhost\(path)#\(Self.encode(database))"
    }

    /// The variables libpq, `psql` and most drivers read, without the password (set
    /// `PGPASSWORD` or `PGPASSFILE` yourself where one is needed).
    package var environment: [String: String] {
        var variables = ["PGHOST": host ?? socketDirectory!, "PGPORT": String(port), "PGUSER": user, "PGDATABASE": database]
        variables["DATABASE_URL"] = withoutPassword.url
        if host != nil { variables["PGSSLMODE"] = sslMode }
        return variables
    }

    public var description: String { Redaction.redact(url) }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let scalar = UnicodeScalar(byte)
            if scalar.properties.isAlphabetic && scalar.isASCII || (0x30...0x39).contains(byte) || "-._~".unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}
