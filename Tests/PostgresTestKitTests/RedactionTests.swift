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

    @Test(arguments: [
        ("ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD '***'"),
        ("create role app login password  'it''s secret' valid until 'infinity'", "create role app login password  '***' valid until 'infinity'"),
        ("ALTER ROLE app PASSWORD NULL", "ALTER ROLE app PASSWORD NULL"),
    ])
    func masksPasswordsInRoleDDL(input: String, expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    /// libpq quotes the piece of a connection string it cannot parse: a piece of a password
    /// must not reach the error.
    @Test func aMalformedConnectionStringNeverEchoesAPieceOfItsPassword() {
        for raw in ["host=h password=abc'def dbname", "postgresql://u:pa ss%zz@h/db?x", "host=h password='s3cr3t"] {
            let error = #expect(throws: TestKitError.self) { try ConnectionString(raw).parameters() }
            for piece in ["abc", "def", "pa ss", "s3cr3t"] { #expect(error?.message.contains(piece) != true, "\(raw): \(error?.message ?? "")") }
        }
        #expect(Redaction.redact("missing \"=\" after \"bcd\" in connection info string", secrets: ["abcdef"]) == "missing \"=\" after \"***\" in connection info string")
    }

    @Test func connectionStringDescriptionIsRedacted() {
        #expect(ConnectionString("postgres://a:b@c/d").description == "postgres://a:***@c/d")
    }
}
