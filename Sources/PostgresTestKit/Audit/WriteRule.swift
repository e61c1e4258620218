/// The one rule both audits — the run's (``RunLogAudit``) and `pgtestkit audit`'s
/// (``CommandAudit``) — judge a logged statement by: given what is known of the database it
/// ran in (its ``Standing``), whether it is a premature write, and of which kind. Each audit
/// works out the standing its own way (owner markers and the toolkit's creates; the databases
/// listed before a command); the judgement is this one.
enum WriteRule {
    /// What is known of the database a statement ran in.
    enum Standing: Equatable {
        /// `postgres` or `template1`.
        case maintenance
        /// A database that is neither the toolkit's nor made by the tests: the developer's.
        case foreign
        /// The toolkit's own (owner marker), or a runner's kept test database.
        case ownedByTests
        /// A database the tests created; `migrated` once its schema exists (its first schema
        /// DDL was logged, or it was cloned from a migrated template).
        case created(migrated: Bool)
    }

    /// The kind of premature write a logged `statement` is, in a database of `standing`;
    /// `nil` when it is none. `isWrite`: whether the statement writes at all (a piece of a
    /// multi-statement string that only reads is not); `temporary`: whether it writes only a
    /// temporary table its session created (``SessionTemporaries``); one named in `pg_temp`
    /// is temporary whoever made it.
    static func judge(_ statement: String, isWrite: Bool = true, temporary: Bool = false, standing: Standing) -> LifecycleViolation.Kind? {
        guard isWrite, !temporary, !StatementClassifier.isAdministration(statement),
              StatementClassifier.writtenTable(statement)?.schema != "pg_temp" else { return nil }
        switch standing {
        case .maintenance: return .writeToMaintenanceDatabase
        case .foreign: return .writeToForeignDatabase
        case .ownedByTests: return nil
        case .created(let migrated):
            return migrated || StatementClassifier.isSchemaDDL(statement) ? nil : .writeBeforeMigrations
        }
    }

    /// The kind of finding a statement that failed with `state` is, in a database of
    /// `standing`: errors are evidence when the statement looked for the app's objects
    /// (``SQLState/missingObject``) — any statement in a maintenance database (app code on an
    /// admin connection), a write elsewhere (into the developer's database, or into a created
    /// one before its schema). `statement` is `nil` when the log did not show it.
    static func judgeFailure(_ statement: String?, state: SQLState, standing: Standing) -> LifecycleViolation.Kind? {
        guard SQLState.missingObject.contains(state) else { return nil }
        if standing == .maintenance { return .appQueryInMaintenanceDatabase }
        guard let statement, StatementClassifier.isLoggedAsWrite(statement) else { return nil }
        return judge(statement, standing: standing)
    }
}
