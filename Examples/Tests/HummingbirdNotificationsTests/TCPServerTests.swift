import HummingbirdNotifications
import HummingbirdTesting
import PostgresNIO
import PostgresTestKit
import PostgresTestKitTesting
import Testing

/// The app against the embedded server's TCP variant (`server: .embeddedTCP`): 127.0.0.1,
/// a port and a password (SCRAM), for apps that only take a host and port.
@Suite(.testDatabase(.hummingbirdNotificationsTCP))
struct TCPServerTests {
    @Test func theAppConnectsOverTCPWithAPassword() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let details = db.connectionDetails
        #expect(details.host == "127.0.0.1")
        #expect(details.password != nil)
        #expect(details.unixSocketPath == nil)
        #expect(details.postgresKitURL == details.url)
        #expect(details.url.hasPrefix("postgresql://") && details.url.hasSuffix("?sslmode=disable"))

        // The app's PostgresNIO client, over TCP, authenticating with the password.
        let (database, address, user) = try await withPostgresClient(details) { client in
            let rows = try await client.query("SELECT current_database(), host(inet_server_addr()), current_user")
            for try await row in rows.decode((String, String?, String).self) {
                return row
            }
            return ("", nil, "")
        }
        #expect(database == db.name)
        #expect(address == "127.0.0.1")   // NULL over a Unix socket
        #expect(user == details.user)

        // And the app's routes, on the same database.
        let app = buildApplication(database: .init(details), logger: .tests)
        try await app.test(.router) { client in
            try await client.execute(uri: "/notification-types", method: .get) { response async throws in
                #expect(try response.decode([NotificationType].self).count == NotificationCatalog.standard.kinds.count)
            }
        }
    }
}
