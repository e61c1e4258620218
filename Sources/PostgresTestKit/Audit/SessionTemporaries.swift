/// The temporary tables each session made, as the statement log shows them: a write into a
/// session's own temporary table is not a write into its database — the table is private to
/// the session and gone with it, and the WAL shows nothing. One rule for both audits (the
/// run's and `pgtestkit audit`'s).
struct SessionTemporaries: Sendable {
    /// `database|pid` → the temporary tables that session created (folded names).
    private var tables: [String: Set<String>] = [:]

    /// Notes the temporary table `statement` creates, if it creates one.
    mutating func note(_ statement: String, database: String, pid: Int32?) {
        guard let name = StatementClassifier.createdTemporaryTable(statement) else { return }
        tables["\(database)|\(pid ?? 0)", default: []].insert(name)
    }

    /// Whether `statement` only writes a temporary table of its session: one that session
    /// created (unqualified or in `pg_temp`), or any table named in `pg_temp`.
    func isTemporaryWrite(_ statement: String, database: String, pid: Int32?) -> Bool {
        guard let written = StatementClassifier.writtenTable(statement) else { return false }
        if written.schema == "pg_temp" { return true }
        return written.schema == nil && tables["\(database)|\(pid ?? 0)"]?.contains(written.name) == true
    }
}
