import Foundation

/// The server-log audit behind `pgtestkit audit -- COMMAND`: given the databases that existed
/// before a command ran and the log entries written while it ran, finds the article's bug in
/// any language's test suite.
///
/// Heuristics (and their limits): a *write* is what `log_statement = mod` logged (DDL and
/// data-modifying statements, including failed ones); writes made inside functions called by
/// a `SELECT` are not logged. A *created* database is one that did not exist before the command.
/// "Before its schema" means before the first DDL logged in that database.
package struct CommandAudit: Sendable {
    /// The maintenance databases.
    package static let maintenance: Set<String> = ["postgres", "template1"]

    /// Databases that existed before the command started.
    package let existingBefore: Set<String>

    /// Creates an audit over the databases that existed before the command.
    package init(existingBefore: Set<String>) {
        self.existingBefore = existingBefore
    }

    /// The violations found in `entries`.
    package func findings(in entries: [ServerLogEntry]) -> [LifecycleViolation] {
        var findings: [LifecycleViolation] = []
        var schemaStarted: Set<String> = []
        var reportedConnections: Set<String> = []
        for entry in entries {
            guard let database = entry.dbname, !database.isEmpty else { continue }
            let time = Date()
            if let target = entry.authorizedDatabase, existingBefore.contains(target),
               !Self.maintenance.contains(target), !reportedConnections.contains(target) {
                reportedConnections.insert(target)
                findings.append(LifecycleViolation(
                    kind: .connectionToForeignDatabase, phase: nil, database: target, sessionPID: entry.pid,
                    applicationName: entry.applicationName, time: time,
                    note: "the command connected to a database that existed before it started (a hook or app start-up using the dev database, or a test runner falling back to it); tests should use only the databases they create"))
            }
            guard let statement = entry.loggedStatement else { continue }
            if Self.maintenance.contains(database) {
                if !StatementClassifier.isAdministration(statement) {
                    findings.append(LifecycleViolation(
                        kind: .writeToMaintenanceDatabase, phase: nil, database: database, statement: statement,
                        sessionPID: entry.pid, applicationName: entry.applicationName, time: time,
                        note: "a write into the maintenance database: a connection hook or app code ran on the admin connection"))
                }
            } else if existingBefore.contains(database) {
                findings.append(LifecycleViolation(
                    kind: .writeToForeignDatabase, phase: nil, database: database, statement: statement,
                    sessionPID: entry.pid, applicationName: entry.applicationName, time: time,
                    note: "a write into a database that existed before the command (your dev database?): it landed there silently"))
            } else if StatementClassifier.isSchemaDDL(statement) {
                schemaStarted.insert(database)
            } else if !schemaStarted.contains(database) {
                findings.append(LifecycleViolation(
                    kind: .writeBeforeMigrations, phase: .connecting, database: database, statement: statement,
                    sessionPID: entry.pid, applicationName: entry.applicationName, time: time,
                    note: "a write into a database the command created, before its first schema DDL: a hook ran on the still-empty test database"))
            }
        }
        return findings
    }
}
