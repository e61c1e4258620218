import Foundation

/// The proof that the toolkit created a database, written with `COMMENT ON DATABASE`.
///
/// The toolkit drops or alters only databases that carry a marker. It records the run, the
/// process, the host, when, for which test, and the kind of database.
package struct OwnerMarker: Codable, Sendable, Hashable {
    /// What a toolkit database is for.
    package enum Kind: String, Codable, Sendable {
        /// A per-test database (empty or cloned from a template).
        case clone
        /// A published template, built by migrations and seeders.
        case template
        /// A template under construction, not yet published.
        case scratch
        /// A clone left ready at a process's exit for the next process of the same template to
        /// adopt (the warm pool): unchanged since ``OwnerMarker/readyLSN``, proven from the WAL
        /// at adoption.
        case ready
    }

    /// The marker format's version.
    package var pgtestkit: Int = 1
    /// The kind of database.
    package var kind: Kind
    /// The run that created it.
    package var run: String
    /// The process id of the creator.
    package var pid: Int32
    /// The host name of the creator.
    package var host: String
    /// The creator's PID namespace (Linux: `/proc/self/ns/pid`), so that a process in another
    /// container that shares the host name is not judged by this host's process table.
    package var pidNamespace: String?
    /// When it was created (ISO 8601).
    package var created: String
    /// The test it was made for, if any.
    package var test: String?
    /// For templates: the full fingerprint.
    package var fingerprint: String?
    /// For templates: the label of the manager that built it (templates with the same label
    /// and prefix supersede each other).
    package var label: String?
    /// Set when the database was kept after the test (keep-on-failure).
    package var kept: Bool?
    /// For templates: the clone strategy measured fastest on this server (`WAL_LOG`/`FILE_COPY`).
    package var cloneStrategy: String?
    /// For templates: its size in bytes when its clone strategy was chosen (a template of a
    /// like size takes the same strategy: ``CloneStrategyProbe``).
    package var size: Int64?
    /// For templates: when a run last prepared from it (ISO 8601), for collection by last use.
    package var lastUsed: String?
    /// For templates: `ok` when its clones may be recycled (``CloneRecycler``), else why not —
    /// unlogged relations, sequences that could not be left uncached. `nil` on a template
    /// built before recycling existed, which is not recycled either.
    package var recycling: String?
    /// For templates whose clones may be recycled: which tables are empty and each sequence's
    /// state, read when it was built (what a reset restores). `nil` on a template built before
    /// markers carried it; a pool then reads it from its first fresh clone.
    package var baseline: TemplateBaseline?
    /// For clones: how many tests have used it (more than one once it was recycled).
    package var uses: Int?
    /// For ready clones: the template it is a clone of.
    package var template: String?
    /// For ready clones: the name it was left under (a ready clone renamed since is not adopted).
    package var readyName: String?
    /// For ready clones: the WAL position from which it is unchanged.
    package var readyLSN: String?
    /// For ready clones: its database OID then.
    package var readyOID: UInt32?
    /// For ready clones: its shared-catalog state then (``SharedDatabaseState/catalogs``).
    package var readyState: String?
    /// For ready clones: the most clones the leaving run's pool aimed at (its peak burst),
    /// which the adopting pool aims at too.
    package var peak: Int?

    /// A marker for a database created now by this process.
    package init(kind: Kind, run: RunID, test: String? = nil, fingerprint: String? = nil, label: String? = nil) {
        self.kind = kind
        self.run = run.rawValue
        self.pid = ProcessInfo.processInfo.processIdentifier
        self.host = Self.thisHost
        self.pidNamespace = Self.thisPIDNamespace
        self.created = Self.timestamp(Date())
        self.test = test
        self.fingerprint = fingerprint
        self.label = label
    }

    /// A marker's ISO 8601 time (`2026-12-02T03:30:14Z`). A format style, not a new
    /// `ISO8601DateFormatter` per call, which costs a fifth of a millisecond: a start-up
    /// collection reads every template's dates.
    package static func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

    /// Parses a marker's ISO 8601 time; `nil` when malformed.
    package static func date(fromTimestamp text: String) -> Date? { try? Date(text, strategy: .iso8601) }

    static let commentPrefix = "pgtestkit "

    /// The text stored as the database's comment.
    package var comment: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Self.commentPrefix + json
    }

    /// Parses a database comment; `nil` when it is not a toolkit marker.
    package init?(comment: String?) {
        guard let comment, comment.hasPrefix(Self.commentPrefix),
              let data = comment.dropFirst(Self.commentPrefix.count).data(using: .utf8),
              let marker = try? JSONDecoder().decode(OwnerMarker.self, from: data)
        else { return nil }
        self = marker
    }

    /// This process's host name and PID namespace, as written into its markers.
    static let thisHost = ProcessInfo.processInfo.hostName
    static let thisPIDNamespace: String? = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")

    /// Whether the creator ran on this host, in this PID namespace: then ``pid`` names a process
    /// that `kill(pid, 0)` can check here.
    package var isFromThisHost: Bool { host == Self.thisHost && pidNamespace == Self.thisPIDNamespace }

    /// The creation time, parsed.
    package var createdDate: Date? { Self.date(fromTimestamp: created) }
    /// When a run last prepared from this template; its creation when never since.
    package var lastUsedDate: Date? { lastUsed.flatMap(Self.date(fromTimestamp:)) ?? createdDate }
}
