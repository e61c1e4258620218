/// A server session seen in `pg_stat_activity`, e.g. one still connected to a database that
/// is about to be dropped.
package struct SessionInfo: Sendable, Hashable, CustomStringConvertible {
    /// The backend's process id.
    package let pid: Int32
    /// The client's `application_name`.
    package let applicationName: String
    /// `idle`, `active`, `idle in transaction`, ...
    package let state: String?
    /// The last statement the session ran (truncated).
    package let lastQuery: String?

    package var description: String {
        let app = applicationName.isEmpty ? "(no application_name)" : applicationName
        return "pid \(pid) \(app) [\(state ?? "?")] last query: \(lastQuery ?? "-")"
    }
}
