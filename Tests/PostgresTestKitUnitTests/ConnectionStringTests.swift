import Testing
@testable import PostgresTestKit

/// Conninfo strings and URLs as libpq parses them (`PQconninfoParse`: no server).
@Suite("ConnectionString")
struct ConnectionStringTests {
    @Test func theKeywordFormSortsKeysAndEscapesQuotesAndBackslashes() {
        let string = ConnectionString.keywordForm(["user": "o'brien", "host": "h", "password": #"a\b"#])
        #expect(string.raw == #"host='h' password='a\\b' user='o\'brien'"#)
    }

    @Test func libpqReadsTheKeywordFormBackToTheSameParameters() throws {
        let parameters = ["host": "/tmp/pg dir", "port": "5433", "user": "o'brien", "password": #"a\b 'c'"#, "dbname": "app test"]
        #expect(try ConnectionString.keywordForm(parameters).parameters() == parameters)
    }

    @Test func aURLParsesIntoItsParts() throws {
        let parameters = try ConnectionString("postgresql://u:s%40cret@db.example:6543/app?sslmode=require&application_name=x").parameters()
        #expect(parameters == ["user": "u", "password": "s@cret", "host": "db.example", "port": "6543", "dbname": "app", "sslmode": "require", "application_name": "x"])
    }

    @Test(arguments: [
        ConnectionDetails(host: "/dev/shm/pg dir", port: 5432, user: "postgres", database: "app_test_1"),
        ConnectionDetails(host: "127.0.0.1", port: 20001, user: "postgres", password: "p@ss:w/rd", database: "db"),
        ConnectionDetails(host: "::1", port: 5433, user: "u", password: "x", database: "d"),
    ])
    func theURLAndTheKeywordFormOfDetailsReadBackToTheSameDetails(details: ConnectionDetails) throws {
        #expect(ConnectionDetails(parameters: try ConnectionString(details.url).parameters()) == details)
        #expect(ConnectionDetails(parameters: try details.connectionString.parameters()) == details)
    }

    @Test func anEmptyStringHasNoParameters() throws {
        #expect(try ConnectionString("").parameters().isEmpty)
    }

    @Test func anInvalidStringIsAConfigurationErrorThatNamesBothForms() {
        let error = #expect(throws: TestKitError.self) { try ConnectionString("host").parameters() }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("keyword form") == true)
        #expect(error?.message.contains("postgres:// URL") == true)
    }

    @Test(arguments: ["host=h password=s3cret dbname=d", "host=h password='s3 cret' dbname=d", "postgres://u:s3cret@h/d"])
    func theDescriptionMasksThePasswordOfEitherForm(raw: String) {
        let description = ConnectionString(raw).description
        #expect(!description.contains("s3"))
        #expect(description.contains("***"))
    }
}
