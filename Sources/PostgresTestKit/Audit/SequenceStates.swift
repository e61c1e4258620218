import Foundation

/// The state of every sequence in the databases that existed before an audited command, read
/// before and after it: a `nextval` or `setval` within the range a sequence already logged
/// writes no WAL record and no log line, but it moves `last_value`. Reads only (one session per
/// database, `pg_sequences`); the toolkit's own databases and those refusing connections are
/// left out.
package struct SequenceStates: Sendable, Equatable {
    /// Database → `schema.sequence` → its `last_value` (`null` before the first `nextval`).
    package var values: [String: [String: String]]

    /// States as read (or built by hand, for tests).
    package init(values: [String: [String: String]]) {
        self.values = values
    }

    /// Reads the sequences of `databases` (not the toolkit's) on `server`; a database that
    /// cannot be read is left out of both reads alike.
    package static func read(_ databases: [CommandAudit.Database], server: ConnectionString) async -> SequenceStates {
        var values: [String: [String: String]] = [:]
        for database in databases where !database.isToolkit && database.name != "template0" {
            guard let connection = try? await Connection.connect(to: server, database: database.name, applicationName: "pgtestkit-audit") else { continue }
            if let rows = try? await connection.execute("SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value::text, 'null') FROM pg_sequences").rows {
                values[database.name] = Dictionary(rows.compactMap { row in row[0].map { ($0, row[1] ?? "null") } }, uniquingKeysWith: { first, _ in first })
            }
            await connection.close()
        }
        return SequenceStates(values: values)
    }

    /// The sequences that moved between `self` (before) and `after`, per database.
    package func moved(to after: SequenceStates) -> [(database: String, sequence: String, from: String, to: String)] {
        var moved: [(database: String, sequence: String, from: String, to: String)] = []
        for (database, sequences) in after.values.sorted(by: { $0.key < $1.key }) {
            guard let earlier = values[database] else { continue }
            for (sequence, value) in sequences.sorted(by: { $0.key < $1.key }) {
                if let was = earlier[sequence], was != value { moved.append((database, sequence, was, value)) }
            }
        }
        return moved
    }
}
