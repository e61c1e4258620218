/// Where a toolkit database is in its life: connect → migrate → seed → ready → release, then
/// one end — dropped, recycled for the next test, kept, or (transaction mode) rolled back.
///
/// The order is fixed and enforced: a step asked for in the wrong phase is an error naming
/// both phases, never a silent reorder.
public enum Phase: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Connections are being opened and connect hooks run (read-only).
    case connecting
    /// The migrator runs (templates only).
    case migrating
    /// Seeders run, after the migrator returned.
    case seeding
    /// The database is ready for the test.
    case ready
    /// The test is done; connections are being closed and checked.
    case releasing
    /// The database was dropped.
    case dropped
    /// The database went back to the pool for another test: unchanged, or reset from the WAL.
    case recycled
    /// The database was kept for a look afterwards (`PGTESTKIT_KEEP`): nothing drops it.
    case kept
    /// The test's transaction was rolled back (`.transaction` isolation): the shared database lives on.
    case rolledBack

    public var description: String { rawValue }

    /// The phases that may follow this one.
    package var successors: Set<Phase> {
        switch self {
        case .connecting: [.migrating, .seeding, .ready, .releasing]
        case .migrating: [.seeding, .releasing]
        case .seeding: [.ready, .releasing]
        case .ready: [.releasing]
        case .releasing: [.dropped, .recycled, .kept, .rolledBack]
        case .dropped, .recycled, .kept, .rolledBack: []
        }
    }
}
