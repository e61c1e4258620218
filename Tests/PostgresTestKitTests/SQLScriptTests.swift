import Testing
@testable import PostgresTestKit

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesCommentsAndDollarBodies() {
        let script = SQLScript("""
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b');
            /* block ; comment */ INSERT INTO a VALUES (E'it\\'s;');
            CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;
            SELECT "semi;colon" FROM a;
            -- trailing comment only
            """)
        #expect(script.statements.count == 4)
        #expect(script.statements[0].text.hasPrefix("CREATE TABLE a"))
        #expect(script.statements[2].text.contains("$body$ BEGIN RETURN 1; END $body$"))
    }

    @Test func mapsOffsetsToLinesAndColumns() {
        let script = SQLScript("SELECT 1;\n\n  SELECT oops;")
        let second = script.statements[1]
        let (line, column) = script.lineAndColumn(ofOffset: second.offset + 7)
        #expect(line == 3)
        #expect(column == 10)
    }

    @Test func sortsMigrationFilesByVersionNumber() {
        #expect(SQLDirectoryMigrator.versionOrder(["10_c.sql", "2_b.sql", "0001_a.sql", "notes.sql"])
                == ["0001_a.sql", "2_b.sql", "10_c.sql", "notes.sql"])
    }
}
