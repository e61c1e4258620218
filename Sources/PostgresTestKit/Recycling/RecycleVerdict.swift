/// What became of one released clone that had a WAL window (``CloneRecycler``): recycled into
/// the pool under a new name, or dropped, and why.
package struct RecycleVerdict: Sendable, Hashable {
    /// The clone's name at release (or after its rename, when it was dropped after it).
    package let database: String
    /// Its new name when it went back to the pool; `nil` when it was dropped.
    package let recycledAs: String?
    /// Why it was dropped: what changed, or why the WAL could not vouch for it.
    package let reason: String?
    /// What the reset did, when the test had written rows and the clone was reset before it
    /// went back; `nil` when it went back unchanged, or was dropped.
    package var reset: ResetPlan? = nil
    /// How long the verdict took, from the release (rename, WAL read, reconnect included).
    package var duration: Duration = .zero
}
