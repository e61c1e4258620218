/// A database on the server that carries the toolkit's owner marker.
public struct OwnedDatabase: Sendable, Hashable {
    /// The database's name.
    public let name: String
    /// Its owner marker.
    public let marker: OwnerMarker
    /// Its size in bytes.
    public let size: Int64
    /// Whether it is a template (`datistemplate`).
    public let isTemplate: Bool
}
