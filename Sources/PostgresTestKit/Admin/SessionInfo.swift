/// A server session seen in `pg_stat_activity`, e.g. one still connected to a database that
/// is about to be dropped.
public struct SessionInfo: Sendable, Hashable, CustomStringConvertible {
    /// The backend's process id.
    public let pid: Int32
    /// The client's `application_name`.
    public let applicationName: String
    /// `idle`, `active`, `idle in transaction`, ...
    public let state: String?
    /// The last statement the session ran (truncated).
    public let lastQuery: String?

    public var description: String {
        let app = applicationName.isEmpty ? "(no application_name)" : applicationName
        return "pid \(pid) \(app) [\(state ?? "?")] last query: \(lastQuery ?? "-")"
    }
}
