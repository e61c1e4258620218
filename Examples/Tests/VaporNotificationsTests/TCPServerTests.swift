import PostgresKit
import PostgresTestKit
import PostgresTestKitTesting
import Testing
import VaporNotifications
import VaporTesting

extension TestDatabaseManager {
    /// The Vapor app's databases on the embedded server's TCP variant: 127.0.0.1, a port, a
    /// password (SCRAM) — PostgresKit reads all of it from one URL.
    static let vaporNotificationsTCP = TestDatabaseManager(
        server: .embeddedTCP,
        migrations: .closure { context in
            try await withNotificationsApp(on: context.connectionDetails) { app in
                try await app.autoMigrate()
            }
        },
        seeders: [NotificationTypesSeeder()],
        label: "vapor-notifications-tcp"
    )
}

/// PostgresKit (under Fluent) over TCP with a password, from `postgresKitURL` alone.
@Suite(.testDatabase(.vaporNotificationsTCP))
struct TCPServerTests {
    @Test func postgresKitConnectsOverTCPFromTheURL() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let details = db.connectionDetails
        #expect(details.host == "127.0.0.1" && details.password != nil)
        // The URL PostgresKit parses: host, port, user, password, database, TLS off.
        let configuration = try SQLPostgresConfiguration(url: details.postgresKitURL)
        #expect(configuration.coreConfiguration.host == "127.0.0.1")
        #expect(configuration.coreConfiguration.port == details.port)
        #expect(configuration.coreConfiguration.password == details.password)
        #expect(configuration.coreConfiguration.database == db.name)
        try await withNotificationsApp(on: details) { app in
            try await app.testing().test(.GET, "notification-types") { res async throws in
                #expect(res.status == .ok)
                #expect(try res.content.decode([NotificationTypeDTO].self).count == NotificationCatalog.standard.kinds.count)
            }
        }
    }

    /// The same URL over the socket: PostgresKit's `postgresql+uds://` form.
    @Test func postgresKitParsesTheSocketURL() throws {
        let socket = ConnectionDetails(host: "/dev/shm/pgtestkit-0-pg15", port: 5432, user: "postgres", database: "app_test")
        let configuration = try SQLPostgresConfiguration(url: socket.postgresKitURL)
        #expect(configuration.coreConfiguration.unixSocketPath == "/dev/shm/pgtestkit-0-pg15/.s.PGSQL.5432")
        #expect(configuration.coreConfiguration.database == "app_test")
    }
}
