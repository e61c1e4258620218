/// The transaction sandbox of transaction-mode tests (``Isolation/transaction``): the toolkit's
/// policy on top of the connection's savepoint sandbox. A statement that ends the outer
/// transaction fails with a `.lifecycleViolation` error that says what that did to the shared
/// clone and what to write instead.
extension Connection {
    /// Makes the connection a transaction sandbox: from now on `BEGIN`, `COMMIT` and
    /// `ROLLBACK` sent through it become savepoint operations inside the outer transaction
    /// (see ``SavepointRewriter``), and a statement that ends the outer transaction anyway
    /// fails with a `.lifecycleViolation` error.
    func enterSandbox() throws {
        try enterSavepointSandbox { Self.sandboxError($0) }
    }

    /// Ends the sandbox and rolls its outer transaction back (whatever transaction is open).
    ///
    /// - Returns: the error of the statement that ended the outer transaction and that
    ///   statement (redacted), if one did: the test's work after that point is not undone by
    ///   this rollback. `nil` when the outer transaction was intact.
    func leaveSandbox() throws -> (error: TestKitError, statement: String?)? {
        try leaveSavepointSandbox().map { (Self.sandboxError($0), $0.statement) }
    }

    private static func sandboxError(_ escape: SandboxEscape) -> TestKitError {
        var message = "a statement broke out of the transaction sandbox (isolation .transaction) on database \(escape.database): \(escape.reason)."
        if let statement = escape.statement { message += " Statement: \(statement.prefix(300))." }
        message += " The test runs inside one transaction on a clone shared with other tests, so what it ran after that point ran outside the sandbox, and any write there was committed to the shared clone;"
        message += " the clone is replaced when the test is released, and this connection refuses further statements."
        message += " Send BEGIN, COMMIT and ROLLBACK as statements of their own (they become savepoints), without AND CHAIN and without PREPARE TRANSACTION,"
        message += " or give a test that must really commit its own database (isolation .database)."
        return TestKitError(.lifecycleViolation, message, underlying: escape.underlying)
    }
}
