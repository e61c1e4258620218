import Foundation
import Logging

/// Drops the toolkit databases of dead runs: marker required, no live admin session of the
/// owning run in `pg_stat_activity`, and older than a grace period. Kept databases are only
/// listed unless asked for.
package struct Reaper: Sendable {
    /// What a reaping pass did.
    package struct Report: Sendable {
        /// Databases dropped (or that would be, in a dry run).
        package var dropped: [String] = []
        /// Databases left alone because their run is alive or they are too young.
        package var alive: [String] = []
        /// Kept databases left alone.
        package var keptSkipped: [String] = []
    }

    let admin: AdminConnection
    let logger: Logger

    /// A reaper working through `admin`.
    package init(admin: AdminConnection, logger: Logger) {
        self.admin = admin
        self.logger = logger
    }

    /// Runs one pass.
    package func reap(prefix: String? = nil, grace: Duration = .seconds(60), includeKept: Bool = false, dryRun: Bool = false) async throws -> Report {
        let liveRuns = Set(try await admin.query("""
            SELECT DISTINCT split_part(split_part(application_name, ':', 2), ':', 1)
            FROM pg_stat_activity WHERE application_name LIKE 'pgtestkit-admin:%'
            """).rows.compactMap { $0[0] })
        var report = Report()
        let graceSeconds = Double(grace.components.seconds)
        // Right after a server restart, live runs have not reconnected yet: their databases
        // would look orphaned. Wait until the server has been up for the grace period.
        let uptime = try await admin.query("SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8")
            .rows.first?.decode(Double.self, at: 0) ?? .infinity
        guard uptime >= graceSeconds else { return report }
        for database in try await admin.ownedDatabases(prefix: prefix) {
            let age = database.marker.createdDate.map { Date().timeIntervalSince($0) } ?? .infinity
            if database.marker.kind == .template {
                continue   // templates are shared; superseded ones go when a newer one is built
            }
            if database.marker.kept == true {
                if includeKept {
                    if !dryRun { try await admin.dropDatabase(database.name) }
                    report.dropped.append(database.name)
                } else {
                    report.keptSkipped.append(database.name)
                }
                continue
            }
            guard !liveRuns.contains(database.marker.run), age >= graceSeconds else {
                report.alive.append(database.name)
                continue
            }
            if !dryRun { try await admin.dropDatabase(database.name) }
            report.dropped.append(database.name)
        }
        return report
    }
}
