import Testing
@testable import PostgresTestKit

/// Passwords taken out of text before it reaches a log, an error or a report: no server.
@Suite("Redaction")
struct RedactionTests {
    @Test(arguments: [
        ("postgres://u:pa?ss@h/db", "postgres://u:***@h/db"),
        ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
        ("postgresql+uds://u:secret@localhost/tmp/.s.PGSQL.5432#db", "postgresql+uds://u:***@localhost/tmp/.s.PGSQL.5432#db"),
        ("from postgres://a:x@h/1 to postgres://b:y@h/2", "from postgres://a:***@h/1 to postgres://b:***@h/2"),
        ("postgres://u@h/db?password=secret&sslmode=require", "postgres://u@h/db?password=***&sslmode=require"),
        ("host=h password=secret", "host=h password=***"),
        ("host=h password='a b' port=5432", "host=h password=*** port=5432"),
    ])
    func everyURLAndConninfoPasswordIsMasked(input: String, expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    @Test(arguments: [
        ("CREATE ROLE app LOGIN ENCRYPTED PASSWORD 'x'", "CREATE ROLE app LOGIN ENCRYPTED PASSWORD '***'"),
        ("alter role app with password 'a''b' valid until 'infinity'", "alter role app with password '***' valid until 'infinity'"),
    ])
    func aRolesPasswordInSQLIsMasked(input: String, expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    @Test(arguments: ["postgres://u@h/db", "SELECT 1", "host=h dbname=password_reset", "INSERT INTO users (name, password) VALUES ($1, $2)"])
    func textWithoutAPasswordIsLeftAsItIs(text: String) {
        #expect(Redaction.redact(text) == text)
    }

    @Test func aKnownSecretIsMaskedWhereverItStandsAndAnEmptyOneIsIgnored() {
        #expect(Redaction.redact("auth failed for hunter2, hunter2!", secrets: ["hunter2"]) == "auth failed for ***, ***!")
        #expect(Redaction.redact("nothing to hide", secrets: [""]) == "nothing to hide")
    }

    @Test func aQuotedFragmentOfASecretIsMasked() {
        #expect(Redaction.redact(#"syntax error at "cdef""#, secrets: ["abcdefgh"]) == #"syntax error at "***""#)
        #expect(Redaction.redact(#"syntax error at "zzz""#, secrets: ["abcdefgh"]) == #"syntax error at "zzz""#)
    }

    /// The SQL rule masks the literal after the `PASSWORD` keyword only: a statement that
    /// merely mentions the word in a string literal keeps its text.
    @Test func theWordPasswordInAStringLiteralIsNotARolesPassword() {
        #expect(Redaction.redact("SELECT 'password' FROM t") == "SELECT 'password' FROM t")
        #expect(Redaction.redact("ALTER ROLE app PASSWORD 'hunter2'") == "ALTER ROLE app PASSWORD '\(Redaction.mask)'")
    }
}
