/// One row of the timeline: a test database's life from its acquire to its drop, or a
/// template's build.
package struct TimelineRow: Sendable, Codable, Equatable {
    /// What a row stands for.
    package enum Kind: String, Sendable, Codable {
        /// A test's database (a clone, made on demand or popped from the pool).
        case test
        /// A template build (migrations and seeders).
        case template
        /// A clone the pool made ahead that no test took (dropped at the end, surplus, or
        /// left for the next process).
        case pool
        /// A database the run did not hand to a test that a finding names (the maintenance
        /// database, a foreign one): only the layout makes these, for the findings' markers.
        case other
        /// A manager prepared before the tests started (Swift Testing's planning): its session,
        /// the template's lookup, the warm pool's adoption. Its `test` is the manager's label.
        case preparation
    }

    /// What becomes of a test's database after its release.
    package enum Outcome: String, Sendable, Codable {
        /// The WAL showed it unchanged: back into the pool.
        case recycled
        /// Only rows changed: reset to the template's state and back into the pool.
        case reset
        /// Dropped (written, or the verdict could not vouch for it).
        case dropped
        /// Kept after its test (keep policy).
        case kept
        /// A template that was built and published.
        case built
    }

    /// What the row stands for.
    package var kind: Kind
    /// The database (a template's published name); `nil` until an acquire knows it.
    package var database: String?
    /// For a template build, the scratch database it was built in before its publishing
    /// rename (findings of the build name that one).
    package var scratch: String?
    /// The test's name, when the adapter or caller gave one.
    package var test: String?
    /// The test's suite (Swift Testing) or `XCTestCase` class, when the adapter knows it.
    package var suite: String?
    /// The process that recorded it.
    package var process: Int32
    /// Its bars, in the order recorded.
    package var spans: [TimelineSpan] = []
    /// What became of it, once known.
    package var outcome: Outcome?
    /// Why a verdict dropped it, when it says.
    package var note: String?

    /// A row with no spans yet.
    package init(kind: Kind, database: String? = nil, test: String? = nil, suite: String? = nil, process: Int32,
                 outcome: Outcome? = nil, note: String? = nil) {
        self.kind = kind
        self.database = database
        self.test = test
        self.suite = suite
        self.process = process
        self.outcome = outcome
        self.note = note
    }

    /// The earliest start of its spans.
    package var start: Double? { spans.map(\.start).min() }
    /// The latest end of its spans.
    package var end: Double? { spans.map(\.end).max() }
}
