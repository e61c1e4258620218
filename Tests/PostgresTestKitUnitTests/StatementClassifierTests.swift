import Testing
@testable import PostgresTestKit

/// How the audits tell writes from reads and administration in logged statements.
@Suite("StatementClassifier")
struct StatementClassifierTests {
    @Test(arguments: [
        "CREATE DATABASE app_test", "drop database if exists app_test", "ALTER DATABASE app SET timezone = 'UTC'",
        "COMMENT ON DATABASE app IS 'pgtestkit {}'", "  CREATE\n  DATABASE x",
    ])
    func creatingDroppingAlteringOrCommentingOnADatabaseIsDatabaseAdministration(sql: String) {
        #expect(StatementClassifier.isDatabaseAdministration(sql))
        #expect(StatementClassifier.isAdministration(sql))
    }

    @Test(arguments: ["CREATE TABLE database (x int)", "COMMENT ON TABLE t IS 'x'", "INSERT INTO database VALUES (1)", "", "   "])
    func otherStatementsAreNotDatabaseAdministration(sql: String) {
        #expect(!StatementClassifier.isDatabaseAdministration(sql))
    }

    @Test(arguments: [
        "GRANT SELECT ON t TO app", "REVOKE ALL ON t FROM app", "CREATE ROLE app LOGIN", "alter user app password 'x'",
        "DROP GROUP readers", "CREATE TEMP TABLE scratch (x int)", "create temporary table scratch (x int)",
    ])
    func roleAndPrivilegeAdministrationAndTemporaryTablesAreNotApplicationWrites(sql: String) {
        #expect(StatementClassifier.isAdministration(sql))
    }

    @Test(arguments: [
        "INSERT INTO t VALUES (1)", "UPDATE t SET x = 1", "DELETE FROM t", "CREATE TABLE t (x int)",
        "CREATE UNLOGGED TABLE t (x int)", "TRUNCATE t", "ALTER TABLE role ADD COLUMN user text",
    ])
    func applicationWritesAndSchemaChangesAreNotAdministration(sql: String) {
        #expect(!StatementClassifier.isAdministration(sql))
    }

    @Test func schemaDDLIsCreateAlterOrDropOfAnythingButADatabase() {
        #expect(StatementClassifier.isSchemaDDL("CREATE TABLE notes (id int)"))
        #expect(StatementClassifier.isSchemaDDL("alter table notes add column body text"))
        #expect(StatementClassifier.isSchemaDDL("DROP INDEX notes_idx"))
        #expect(!StatementClassifier.isSchemaDDL("CREATE DATABASE app_test"))
        #expect(!StatementClassifier.isSchemaDDL("INSERT INTO notes VALUES (1)"))
        #expect(!StatementClassifier.isSchemaDDL(""))
    }

    @Test func aMultiStatementStringIsSplitAndASingleStatementIsKeptAsLogged() {
        #expect(StatementClassifier.statements(of: "SELECT 1; INSERT INTO t VALUES (';')") == ["SELECT 1", "INSERT INTO t VALUES (';')"])
        #expect(StatementClassifier.statements(of: "INSERT INTO t VALUES (1);") == ["INSERT INTO t VALUES (1);"])
        #expect(StatementClassifier.statements(of: "DO $$ BEGIN PERFORM 1; END $$") == ["DO $$ BEGIN PERFORM 1; END $$"])
    }

    @Test(arguments: [
        "SELECT 1", "(SELECT 1)", "set search_path to app", "RESET ALL", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT s",
        "DO $$ BEGIN END $$", "CALL refresh()", "VACUUM t", "ANALYZE t", "EXPLAIN SELECT 1", "EXPLAIN INSERT INTO t VALUES (1)",
        "EXPLAIN ANALYZE SELECT 1", "WITH x AS (SELECT updated_at FROM t) SELECT * FROM x", "LISTEN jobs", "NOTIFY jobs",
        "", "  ",
    ])
    func readsSessionAndTransactionControlAreNotLoggedAsWrites(sql: String) {
        #expect(!StatementClassifier.isLoggedAsWrite(sql))
    }

    @Test(arguments: [
        "INSERT INTO t VALUES (1)", "update t set x = 1", "DELETE FROM t", "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE",
        "CREATE TABLE t (x int)", "TRUNCATE t", "COPY t FROM STDIN", "GRANT SELECT ON t TO app",
        "WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved",
        "EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "explain (analyse) update t set x = 2",
    ])
    func dataChangesDDLAndWritingCTEsAreLoggedAsWrites(sql: String) {
        #expect(StatementClassifier.isLoggedAsWrite(sql))
    }

    @Test func aCreatedDatabaseIsNamedAsTheServerFoldsIdentifiers() {
        #expect(StatementClassifier.createdDatabase("CREATE DATABASE App_Test")! == ("app_test", nil))
        #expect(StatementClassifier.createdDatabase(#"CREATE DATABASE "App""Test""#)! == (#"App"Test"#, nil))
    }

    @Test func theTemplateOfACreatedDatabaseIsFoundWithOrWithoutAnEqualsSign() {
        #expect(StatementClassifier.createdDatabase("CREATE DATABASE c TEMPLATE pgtk_tpl_0123456789abcdef")! == ("c", "pgtk_tpl_0123456789abcdef"))
        #expect(StatementClassifier.createdDatabase(#"create database c with owner = app template = "Tpl""#)! == ("c", "Tpl"))
        #expect(StatementClassifier.createdDatabase("CREATE DATABASE c STRATEGY FILE_COPY TEMPLATE template0")! == ("c", "template0"))
    }

    @Test func aQuotedIdentifierSpelledTemplateIsNotTheTemplateKeyword() {
        #expect(StatementClassifier.createdDatabase(#"CREATE DATABASE c OWNER "template""#)! == ("c", nil))
    }

    @Test(arguments: ["CREATE TABLE t (x int)", "CREATE DATABASE", "DROP DATABASE app", "SELECT 'CREATE DATABASE x'"])
    func onlyACreateDatabaseStatementNamesACreatedDatabase(sql: String) {
        #expect(StatementClassifier.createdDatabase(sql) == nil)
    }
}
