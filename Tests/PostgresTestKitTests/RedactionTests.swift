import Testing
@testable import PostgresTestKit

@Suite struct RedactionTests {
    @Test(arguments: [
        ("postgres://u:pa55@h/db", "postgres://u:***@h/db"),
        ("postgresql://u:p%40ss@h:5432/db?sslmode=require", "postgresql://u:***@h:5432/db?sslmode=require"),
        ("host=h password=secret dbname=x", "host=h password=*** dbname=x"),
        ("host=h password = 'se cr\\'et' dbname=x", "host=h password=*** dbname=x"),
        ("postgres://u@h/db", "postgres://u@h/db"),
    ])
    func masksPasswords(input: String, expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    @Test func masksKnownSecretsAnywhere() {
        #expect(Redaction.redact("failed for hunter2 at x", secrets: ["hunter2"]) == "failed for *** at x")
    }

    @Test func connectionStringDescriptionIsRedacted() {
        #expect(ConnectionString("postgres://a:b@c/d").description == "postgres://a:***@c/d")
    }
}
