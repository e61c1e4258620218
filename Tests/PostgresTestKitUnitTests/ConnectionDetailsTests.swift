import Testing
@testable import PostgresTestKitConnection

/// The URL, conninfo and environment forms of a database's address: no server.
@Suite("ConnectionDetails")
struct ConnectionDetailsTests {
    @Test func aHostStartingWithASlashIsASocketDirectory() {
        let details = ConnectionDetails(host: "/tmp/pg", port: 5433, user: "u", database: "d")
        #expect(details.host == nil)
        #expect(details.socketDirectory == "/tmp/pg")
        #expect(details.unixSocketPath == "/tmp/pg/.s.PGSQL.5433")
    }

    @Test func libpqsDefaultsFillWhatTheParametersLeaveOut() {
        let details = ConnectionDetails(parameters: [:])
        #expect(details.socketDirectory == "/var/run/postgresql")
        #expect(details.port == 5432)
        #expect(details.user == "postgres")
        #expect(details.database == "postgres")
        #expect(details.password == nil)
    }

    @Test func aHostListUsesItsFirstHostAndPortAndAnEmptyPasswordIsNone() {
        let details = ConnectionDetails(parameters: ["host": "db1.internal,db2.internal", "port": "5433,5434", "user": "u", "password": "", "dbname": "d"])
        #expect(details.host == "db1.internal")
        #expect(details.port == 5433)
        #expect(details.password == nil)
    }

    @Test func overASocketTheURLCarriesTheDirectoryAndPortAsQueryParameters() {
        let details = ConnectionDetails(host: "/tmp/pg", port: 5433, user: "u", password: "p@ss", database: "d")
        #expect(details.url == "postgresql://u:p%40ss@/d?host=%2Ftmp%2Fpg&port=5433")
        #expect(details.postgresKitURL == "postgresql+uds://u:p%40ss@localhost/tmp/pg/.s.PGSQL.5433#d")
    }

    @Test(arguments: [("localhost", "disable"), ("127.0.0.2", "disable"), ("::1", "disable"), ("db.example.com", "prefer"), ("10.0.0.5", "prefer")])
    func aLoopbackHostTurnsWeakTLSOffAndARemoteHostKeepsPreferring(host: String, sslMode: String) {
        let details = ConnectionDetails(host: host, user: "u", database: "d")
        #expect(details.url.hasSuffix("/d?sslmode=\(sslMode)"))
        #expect(details.connectionString.raw.contains("sslmode='\(sslMode)'"))
        #expect(details.environment["PGSSLMODE"] == sslMode)
    }

    @Test(arguments: [("allow", "disable"), ("prefer", "disable"), ("require", "require"), ("verify-ca", "verify-ca")])
    func onLoopbackOnlyAnSSLModeThatRequiresTLSIsKept(asked: String, kept: String) {
        let details = ConnectionDetails(parameters: ["host": "localhost", "user": "u", "dbname": "d", "sslmode": asked])
        #expect(details.url.hasSuffix("?sslmode=\(kept)"))
    }

    @Test func anIPv6HostIsBracketedInTheURL() {
        #expect(ConnectionDetails(host: "fe80::1", port: 6000, user: "u", database: "d").url == "postgresql://u@[fe80::1]:6000/d?sslmode=prefer")
    }

    @Test func everythingButUnreservedCharactersIsPercentEncoded() {
        #expect(ConnectionDetails.encode("a-b._~c9") == "a-b._~c9")
        #expect(ConnectionDetails.encode("a b@c:d/e?f#g") == "a%20b%40c%3Ad%2Fe%3Ff%23g")
        #expect(ConnectionDetails.encode("é") == "%C3%A9")
        #expect(ConnectionDetails(host: "h", user: "app user", database: "db/1").url == "postgresql://app%20user@h:5432/db%2F1?sslmode=prefer")
    }

    @Test func theKeywordFormQuotesEveryValueAndNamesTheSSLModeOnlyOverTCP() {
        #expect(ConnectionDetails(host: "/tmp", user: "u", database: "d").connectionString.raw == "dbname='d' host='/tmp' port='5432' user='u'")
        #expect(ConnectionDetails(host: "h", port: 1, user: "u", password: "it's", database: "d").connectionString.raw
                == #"dbname='d' host='h' password='it\'s' port='1' sslmode='prefer' user='u'"#)
    }

    @Test func anotherDatabaseAndNoPasswordKeepTheRestOfTheAddress() {
        let details = ConnectionDetails(host: "localhost", port: 6000, user: "u", password: "secret", database: "d")
        let other = details.with(database: "other")
        #expect(other.database == "other")
        #expect(other.password == "secret" && other.host == "localhost" && other.port == 6000)
        let printable = details.withoutPassword
        #expect(printable.password == nil)
        #expect(printable.url == "postgresql://u@localhost:6000/d?sslmode=disable")
        #expect(details.with(database: "d") == details)
    }

    @Test func theEnvironmentNeverHoldsThePassword() {
        let tcp = ConnectionDetails(host: "localhost", port: 6000, user: "u", password: "secret", database: "d")
        #expect(tcp.environment == [
            "PGHOST": "localhost", "PGPORT": "6000", "PGUSER": "u", "PGDATABASE": "d", "PGSSLMODE": "disable",
            "DATABASE_URL": "postgresql://u@localhost:6000/d?sslmode=disable",
        ])
        let socket = ConnectionDetails(host: "/tmp", user: "u", password: "secret", database: "d")
        #expect(socket.environment["PGSSLMODE"] == nil)
        #expect(!socket.environment.values.contains { $0.contains("secret") })
    }

    @Test func printingDetailsNeverShowsThePassword() {
        let details = ConnectionDetails(host: "localhost", user: "u", password: "secret", database: "d")
        #expect("\(details)" == "postgresql://u:***@localhost:5432/d?sslmode=disable")
    }
}
