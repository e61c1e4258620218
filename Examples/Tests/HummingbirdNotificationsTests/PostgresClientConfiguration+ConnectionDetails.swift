import PostgresNIO
import PostgresTestKit

extension PostgresClient.Configuration {
    /// PostgresNIO's configuration for a test database: its Unix socket when it has one, else
    /// its host and port (TLS off: the test server is local).
    init(_ details: ConnectionDetails) {
        if let socket = details.unixSocketPath {
            self.init(unixSocketPath: socket, username: details.user, password: details.password, database: details.database)
        } else {
            self.init(host: details.host ?? "localhost", port: details.port, username: details.user, password: details.password, database: details.database, tls: .disable)
        }
    }
}
