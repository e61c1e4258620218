import Foundation

/// What the toolkit does on a lifecycle violation.
public enum AuditPolicy: String, Sendable, Codable {
    /// Report it and fail the test that caused it (the default when `CI=true`).
    case fail
    /// Report it; the test goes on (the default otherwise). Hook writes are detected, not blocked.
    case warn
    /// Neither guard nor report.
    case off

    /// The policy a manager given `fallback` in code runs with: `PGTESTKIT_AUDIT` when set,
    /// else `fallback`, else `.fail` under `CI=true`, else `.warn`.
    public static func fromEnvironment(fallback: AuditPolicy? = nil) -> AuditPolicy {
        ToolkitSettings.process.audit(code: fallback)
    }
}
