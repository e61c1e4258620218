/// Turns a transaction-mode test's own `BEGIN`, `COMMIT` and `ROLLBACK` into savepoints inside
/// the sandbox's outer transaction, and tells from the server's answer whether a statement
/// ended that outer transaction anyway.
///
/// Only a transaction statement sent on its own is rewritten (`BEGIN`, `START TRANSACTION`,
/// `COMMIT`, `END`, `ROLLBACK`, `ABORT`, with or without `WORK`/`TRANSACTION`). Everything else
/// goes to the server as written — a `COMMIT` inside a multi-statement string, `COMMIT AND
/// CHAIN`, `ROLLBACK AND CHAIN`, `PREPARE TRANSACTION` — and ``escape(commandTags:inTransaction:sql:)``
/// reports it when it did end the outer transaction. No server is needed to use it.
package struct SavepointRewriter: Sendable, Equatable {
    /// A statement as it is sent to the server.
    package struct Rewrite: Sendable, Equatable {
        /// The SQL to send.
        package let sql: String
        /// Whether ``sql`` holds several statements (it must go by the simple-query protocol).
        package let isScript: Bool
    }

    /// How many of the test's own transactions (savepoints) are open.
    package private(set) var depth = 0

    /// A rewriter with no open savepoint: the state of a sandbox that just began.
    package init() {}

    /// The name of the savepoint that stands for the test's transaction at `level` (1-based).
    package static func savepointName(_ level: Int) -> String { "pgtestkit_user_\(level)" }

    private static let begins: Set = ["BEGIN", "BEGIN WORK", "BEGIN TRANSACTION", "START TRANSACTION"]
    private static let commits: Set = ["COMMIT", "COMMIT WORK", "COMMIT TRANSACTION", "END", "END WORK", "END TRANSACTION"]
    private static let rollbacks: Set = ["ROLLBACK", "ROLLBACK WORK", "ROLLBACK TRANSACTION", "ABORT", "ABORT WORK", "ABORT TRANSACTION"]

    /// Rewrites one statement sent by the test and tracks the savepoint depth: `BEGIN` opens a
    /// savepoint, `COMMIT` releases it, `ROLLBACK` rolls back to it (and releases it), and a
    /// `COMMIT`/`ROLLBACK` with no savepoint open becomes a no-op, never the outer commit.
    package mutating func rewrite(_ sql: String) -> Rewrite {
        let words = Self.normalized(sql)
        if Self.begins.contains(words) {
            depth += 1
            return Rewrite(sql: "SAVEPOINT \(Self.savepointName(depth))", isScript: false)
        }
        let commit = Self.commits.contains(words)
        guard commit || Self.rollbacks.contains(words) else { return Rewrite(sql: sql, isScript: false) }
        guard depth > 0 else {
            return Rewrite(sql: "SELECT 'no transaction in progress (transaction sandbox)' WHERE false", isScript: false)
        }
        let name = Self.savepointName(depth)
        depth -= 1
        return commit
            ? Rewrite(sql: "RELEASE SAVEPOINT \(name)", isScript: false)
            : Rewrite(sql: "ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)", isScript: true)
    }

    /// Why the statement `sql` ended the sandbox's outer transaction, or `nil` when it did not.
    ///
    /// - Parameters:
    ///   - commandTags: the command tags of the statement's results, in order (`COMMIT`,
    ///     `ROLLBACK`, `PREPARE TRANSACTION`, `INSERT 0 1`, ...). A rewritten statement never
    ///     answers `COMMIT` or `PREPARE TRANSACTION` (a release answers `RELEASE`).
    ///   - inTransaction: whether the connection is still in a transaction block afterwards
    ///     (libpq's `PQtransactionStatus`: in a transaction or in a failed one).
    ///   - sql: the statement as sent, to tell `ROLLBACK AND CHAIN` from `ROLLBACK TO SAVEPOINT`
    ///     (both answer `ROLLBACK` and leave a transaction open).
    package static func escape(commandTags: [String], inTransaction: Bool, sql: String) -> String? {
        let ending = commandTags.filter { ["COMMIT", "ROLLBACK", "PREPARE TRANSACTION"].contains($0) }
        if !inTransaction {
            return ending.isEmpty
                ? "the outer transaction ended"
                : "the outer transaction ended (\(ending.joined(separator: ", ")))"
        }
        if commandTags.contains("PREPARE TRANSACTION") {
            return "the outer transaction was prepared (PREPARE TRANSACTION) and another one began"
        }
        if commandTags.contains("COMMIT") {
            return "the outer transaction was committed and another one began (COMMIT AND CHAIN)"
        }
        if commandTags.contains("ROLLBACK"), chains(sql) {
            return "the outer transaction was rolled back and another one began (ROLLBACK AND CHAIN)"
        }
        return nil
    }

    /// Whether the string holds a transaction-ending statement with `AND CHAIN`.
    static func chains(_ sql: String) -> Bool {
        SQLScript(sql).statements.contains { statement in
            let words = normalized(statement.text)
            let first = words.prefix { $0 != " " }
            return ["COMMIT", "END", "ROLLBACK", "ABORT"].contains(String(first)) && words.contains("AND CHAIN")
        }
    }

    /// Upper-cased, one space between words, no trailing semicolon.
    private static func normalized(_ sql: String) -> String {
        var text = Substring(sql.uppercased())
        while let last = text.last, last == ";" || last.isWhitespace { text = text.dropLast() }
        return text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

/// How a statement ended a savepoint sandbox's outer transaction (see
/// ``Connection/enterSavepointSandbox(escapeError:)``): the facts, for the sandbox's owner to
/// turn into the error the statement fails with.
package struct SandboxEscape: Sendable {
    /// What happened to the outer transaction (``SavepointRewriter/escape(commandTags:inTransaction:sql:)``).
    package let reason: String
    /// The statement that ended it (redacted); `nil` when it was found ended at the sandbox's end.
    package let statement: String?
    /// The database the connection is attached to.
    package let database: String
    /// The statement's own error, when it failed as well.
    package let underlying: PGError?
}
