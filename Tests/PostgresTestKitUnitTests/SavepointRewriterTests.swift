import Testing
@testable import PostgresTestKitConnection

/// The transaction sandbox's statement rewriting and escape detection, without a server.
@Suite("SavepointRewriter")
struct SavepointRewriterTests {
    @Test func beginAndCommitBecomeASavepointAndItsRelease() {
        var rewriter = SavepointRewriter()
        #expect(rewriter.rewrite("BEGIN") == .init(sql: "SAVEPOINT pgtestkit_user_1", isScript: false))
        #expect(rewriter.depth == 1)
        #expect(rewriter.rewrite("COMMIT") == .init(sql: "RELEASE SAVEPOINT pgtestkit_user_1", isScript: false))
        #expect(rewriter.depth == 0)
    }

    @Test func nestedTransactionsUseOneSavepointPerLevel() {
        var rewriter = SavepointRewriter()
        _ = rewriter.rewrite("BEGIN")
        #expect(rewriter.rewrite("START TRANSACTION").sql == "SAVEPOINT pgtestkit_user_2")
        #expect(rewriter.rewrite("ROLLBACK") == .init(
            sql: "ROLLBACK TO SAVEPOINT pgtestkit_user_2; RELEASE SAVEPOINT pgtestkit_user_2", isScript: true))
        #expect(rewriter.rewrite("END").sql == "RELEASE SAVEPOINT pgtestkit_user_1")
        #expect(rewriter.depth == 0)
    }

    @Test(arguments: ["COMMIT", "ROLLBACK", "END", "ABORT"])
    func aCommitOrRollbackWithNoSavepointOpenIsANoOpNeverTheOuterCommit(sql: String) {
        var rewriter = SavepointRewriter()
        let rewrite = rewriter.rewrite(sql)
        #expect(rewrite.sql.hasPrefix("SELECT "))
        #expect(rewrite.sql.hasSuffix("WHERE false"))
        #expect(rewriter.depth == 0)
    }

    @Test(arguments: ["  begin work ; ", "BEGIN TRANSACTION;", "start\ttransaction", "Begin"])
    func caseWhiteSpaceAndASemicolonDoNotMatter(sql: String) {
        var rewriter = SavepointRewriter()
        #expect(rewriter.rewrite(sql).sql == "SAVEPOINT pgtestkit_user_1")
    }

    @Test(arguments: ["END TRANSACTION", "END WORK", "COMMIT WORK", "ABORT TRANSACTION", "ROLLBACK WORK"])
    func everySpellingOfEndingATransactionIsRewritten(sql: String) {
        var rewriter = SavepointRewriter()
        _ = rewriter.rewrite("BEGIN")
        #expect(rewriter.rewrite(sql).sql.contains("SAVEPOINT pgtestkit_user_1"))
        #expect(rewriter.depth == 0)
    }

    /// What is not a transaction statement on its own goes to the server as written: the
    /// escape check then judges what the server did with it.
    @Test(arguments: [
        "SELECT 1", "INSERT INTO t VALUES (1); COMMIT; INSERT INTO t VALUES (2)", "COMMIT AND CHAIN",
        "ROLLBACK AND CHAIN", "PREPARE TRANSACTION 'x'", "SAVEPOINT mine", "ROLLBACK TO SAVEPOINT mine",
        "SELECT 1; END", "BEGIN ISOLATION LEVEL SERIALIZABLE",
    ])
    func anythingElseIsLeftAsItIs(sql: String) {
        var rewriter = SavepointRewriter()
        _ = rewriter.rewrite("BEGIN")
        #expect(rewriter.rewrite(sql) == .init(sql: sql, isScript: false))
        #expect(rewriter.depth == 1)
    }

    @Test func noTransactionBlockLeftMeansTheOuterTransactionEnded() {
        let escape = SavepointRewriter.escape(
            commandTags: ["INSERT 0 1", "COMMIT", "INSERT 0 1"], inTransaction: false, sql: "INSERT …; COMMIT; INSERT …")
        #expect(escape == "the outer transaction ended (COMMIT)")
        #expect(SavepointRewriter.escape(commandTags: [], inTransaction: false, sql: "PREPARE TRANSACTION 'x'") == "the outer transaction ended")
    }

    @Test func aCommitOrPrepareWhileStillInATransactionMeansAChainedOne() {
        #expect(SavepointRewriter.escape(commandTags: ["COMMIT"], inTransaction: true, sql: "COMMIT AND CHAIN")?.contains("COMMIT AND CHAIN") == true)
        #expect(SavepointRewriter.escape(commandTags: ["PREPARE TRANSACTION", "BEGIN"], inTransaction: true, sql: "PREPARE TRANSACTION 'x'; BEGIN") != nil)
    }

    @Test func aRollbackAndChainIsToldFromARollbackToASavepoint() {
        #expect(SavepointRewriter.escape(commandTags: ["ROLLBACK"], inTransaction: true, sql: "rollback  and\nchain;") != nil)
        #expect(SavepointRewriter.escape(commandTags: ["ROLLBACK"], inTransaction: true, sql: "ABORT AND CHAIN") != nil)
        #expect(SavepointRewriter.escape(commandTags: ["ROLLBACK"], inTransaction: true, sql: "ROLLBACK TO SAVEPOINT mine") == nil)
        #expect(SavepointRewriter.escape(
            commandTags: ["ROLLBACK", "RELEASE"], inTransaction: true,
            sql: "ROLLBACK TO SAVEPOINT pgtestkit_user_1; RELEASE SAVEPOINT pgtestkit_user_1") == nil)
        #expect(SavepointRewriter.escape(
            commandTags: ["ROLLBACK", "SELECT 1"], inTransaction: true, sql: "ROLLBACK TO mine; SELECT 'ROLLBACK AND CHAIN'") == nil)
    }

    @Test func ordinaryStatementsAndTheRewrittenOnesAreNoEscape() {
        #expect(SavepointRewriter.escape(commandTags: ["SAVEPOINT"], inTransaction: true, sql: "SAVEPOINT pgtestkit_user_1") == nil)
        #expect(SavepointRewriter.escape(commandTags: ["RELEASE"], inTransaction: true, sql: "RELEASE SAVEPOINT pgtestkit_user_1") == nil)
        #expect(SavepointRewriter.escape(commandTags: ["INSERT 0 1", "UPDATE 2"], inTransaction: true, sql: "INSERT …; UPDATE …") == nil)
        #expect(SavepointRewriter.escape(commandTags: [], inTransaction: true, sql: "SELEC 1") == nil)   // a failed statement
    }
}
