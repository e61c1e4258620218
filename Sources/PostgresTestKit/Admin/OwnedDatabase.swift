/// A database on the server that carries the toolkit's owner marker.
package struct OwnedDatabase: Sendable, Hashable {
    /// The database's name.
    package let name: String
    /// Its owner marker.
    package let marker: OwnerMarker
    /// Its size in bytes (0 unless listed with sizes).
    package let size: Int64
    /// Whether it is a template (`datistemplate`).
    package let isTemplate: Bool
}
