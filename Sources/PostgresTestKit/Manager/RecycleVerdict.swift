/// What became of one released clone that had a WAL window (``CloneRecycler``): recycled into
/// the pool under a new name, or dropped, and why.
package struct RecycleVerdict: Sendable, Hashable {
    /// The clone's name at release (or after its rename, when it was dropped after it).
    package let database: String
    /// Its new name when it went back to the pool; `nil` when it was dropped.
    package let recycledAs: String?
    /// Why it was dropped: what changed, or why the WAL could not vouch for it.
    package let reason: String?
    /// How long the verdict took, from the release (rename, WAL read, reconnect included).
    package var duration: Duration = .zero
}
