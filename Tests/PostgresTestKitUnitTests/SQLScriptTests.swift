import Testing
@testable import PostgresTestKit

/// Splitting migration scripts into statements, and error positions back into lines: no server.
@Suite("SQLScript")
struct SQLScriptTests {
    static func texts(_ script: String) -> [String] { SQLScript(script).statements.map(\.text) }

    @Test func statementsEndAtSemicolonsAndTheLastNeedsNone() {
        #expect(Self.texts("SELECT 1; SELECT 2;\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"])
    }

    @Test func emptyStatementsAndCommentOnlyPiecesAreDropped() {
        #expect(Self.texts(";;  ; -- nothing here\n;/* nor here */;") == [])
        #expect(Self.texts("SELECT 1;\n-- the end\n") == ["SELECT 1"])
    }

    @Test(arguments: [
        "SELECT 'a;b'; SELECT 2",
        "SELECT 'it''s; fine'; SELECT 2",
        #"SELECT E'it\'s; fine'; SELECT 2"#,
        #"SELECT e'\\'; SELECT 2"#,
        #"SELECT "semi;colon" FROM t; SELECT 2"#,
        "DO $$ BEGIN PERFORM 1; END $$; SELECT 2",
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql; SELECT 2",
        "SELECT $a$ $b$ ; $b$ $a$; SELECT 2",
        "-- a comment; with a semicolon\nSELECT 1; SELECT 2",
        "SELECT 1 /* a ; comment */; SELECT 2",
        "SELECT 1 /* outer /* inner; */ still; */; SELECT 2",
    ])
    func aSemicolonInsideAStringAnIdentifierADollarBodyOrACommentEndsNothing(script: String) {
        #expect(SQLScript(script).statements.count == 2)
        #expect(SQLScript(script).statements.last?.text == "SELECT 2")
    }

    @Test func aDollarSignInAnIdentifierOrAParameterIsNoDollarQuote() {
        #expect(Self.texts("SELECT a$b$c FROM t; SELECT 2") == ["SELECT a$b$c FROM t", "SELECT 2"])
        #expect(Self.texts("SELECT $1; SELECT $2") == ["SELECT $1", "SELECT $2"])
    }

    @Test func aStatementStartsAtItsFirstCodeAfterWhiteSpaceAndComments() {
        let script = SQLScript("SELECT 1;\n  -- why\n  /* how */ INSERT INTO t VALUES (1);")
        #expect(script.statements[1].text == "INSERT INTO t VALUES (1)")
        #expect(script.statements[1].offset == 31)
        #expect(script.lineAndColumn(ofOffset: script.statements[1].offset) == (3, 13))
    }

    /// `firstCode` skips a leading block comment up to its first `*/`, while the splitter
    /// nests them as the server does: a statement after a nested comment starts inside it.
    @Test func aStatementAfterANestedBlockCommentStartsAfterTheWholeComment() {
        #expect(Self.texts("/* a /* b */ c */ SELECT 1") == ["SELECT 1"])
    }

    @Test func positionsMapToOneBasedLinesAndColumns() {
        let script = SQLScript("SELECT 1;\n\nSELECT oops;")
        #expect(script.lineAndColumn(ofOffset: 0) == (1, 1))
        #expect(script.lineAndColumn(ofOffset: 9) == (1, 10))
        #expect(script.lineAndColumn(ofOffset: 10) == (2, 1))
        #expect(script.lineAndColumn(ofOffset: 18) == (3, 8))
        #expect(script.lineAndColumn(ofOffset: 1_000) == (3, 13))   // past the end: the end
    }

    @Test func anUnterminatedStringRunsToTheEndOfTheScript() {
        #expect(Self.texts("SELECT 'open; SELECT 2") == ["SELECT 'open; SELECT 2"])
    }

    /// The migrator and the SQL seeder report a failed statement alike: file, line and column
    /// of the server's position, SQLSTATE, and the server's DETAIL and HINT.
    @Test func aFailedStatementIsLocatedInItsFileWithTheServersDetailAndHint() throws {
        let script = SQLScript("-- seed\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (oops);\n")
        let statement = try #require(script.statements.last)
        let error = PGError(code: .server, message: "column \"oops\" does not exist", sqlState: .undefinedColumn,
                            detail: "There is a column named \"ok\".", hint: "Perhaps you meant \"ok\".", position: 23)
        let text = script.failure(of: statement, in: "Seeds/001.sql", error)
        #expect(text.hasPrefix("Seeds/001.sql:3:23 failed with SQLSTATE 42703: column \"oops\" does not exist"), "\(text)")
        #expect(text.contains("\nDETAIL: There is a column named \"ok\"."))
        #expect(text.contains("\nHINT: Perhaps you meant \"ok\"."))
        #expect(text.contains("\nSTATEMENT: INSERT INTO t VALUES (oops)"))
    }
}
