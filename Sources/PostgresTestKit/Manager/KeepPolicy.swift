import Foundation

/// Which test databases survive their test, for a look with `psql` afterwards.
public enum KeepPolicy: String, Sendable {
    /// Drop every database (the default).
    case none
    /// Keep the databases of failed tests.
    case failed
    /// Keep every database.
    case all

    /// `PGTESTKIT_KEEP=failed|all|none`, else `fallback` (the rule of ``TestDatabaseManager/Configuration``).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment, fallback: KeepPolicy = .none) -> KeepPolicy {
        TestDatabaseManager.Configuration.fromEnvironment(environment).keep ?? fallback
    }
}
