import Foundation

/// What the toolkit does on a lifecycle violation.
public enum AuditPolicy: String, Sendable, Codable {
    /// Report it and fail the test that caused it (the default when `CI=true`).
    case fail
    /// Report it; the test goes on (the default otherwise). Hook writes are detected, not blocked.
    case warn
    /// Neither guard nor report.
    case off

    /// `PGTESTKIT_AUDIT` when set, else `.fail` under `CI=true`, else `fallback`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, fallback: AuditPolicy? = nil
    ) -> AuditPolicy {
        if let value = environment["PGTESTKIT_AUDIT"], let policy = AuditPolicy(rawValue: value.lowercased()) {
            return policy
        }
        if let fallback { return fallback }
        return environment["CI"]?.lowercased() == "true" ? .fail : .warn
    }
}
