import Foundation
import Logging

/// Collects templates by last use: a template that no live run holds and that no run has
/// prepared from for longer than the TTL is dropped, whatever its prefix or label — a branch
/// left, a project no longer worked on. Only the connected role's own templates are touched.
///
/// The TTL is `PGTESTKIT_TEMPLATE_TTL` (seconds, or with a unit: `90m`, `36h`, `7d`); the
/// default is 3 days: long enough that a weekend does not cost a rebuild, short enough that a
/// RAM-backed server does not fill with templates nobody uses.
package struct TemplateCollector: Sendable {
    /// The default TTL.
    package static let defaultTTL: Duration = .seconds(3 * 24 * 3600)

    let admin: AdminConnection
    let logger: Logger

    package init(admin: AdminConnection, logger: Logger) {
        self.admin = admin
        self.logger = logger
    }

    /// Parses `3600`, `90m`, `36h` or `7d`.
    package static func parseTTL(_ text: String) throws -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let unit = trimmed.last.flatMap { units[$0] }
        let number = unit == nil ? trimmed : String(trimmed.dropLast())
        // At most a century: more is a typo, and would overflow a Duration.
        guard let value = Int64(number), value >= 0, case let (seconds, false) = value.multipliedReportingOverflow(by: unit ?? 1),
              seconds <= 100 * 365 * 86_400 else {
            throw TestKitError(.configuration, "PGTESTKIT_TEMPLATE_TTL=\(text) is not a duration: give seconds (3600) or a number with s, m, h or d (90m, 36h, 7d).")
        }
        return .seconds(seconds)
    }

    /// What a pass did.
    package struct Report: Sendable {
        /// Templates dropped.
        package var dropped: [String] = []
        /// Templates past their TTL that a live run holds (kept).
        package var inUse: [String] = []
        /// Ready clones (the warm pool) dropped: with their template, or aged out.
        package var readyDropped: [String] = []
        /// An empty report.
        package init() {}
    }

    /// Drops the role's templates in `scope` (its prefixes, the runs that built them, this
    /// host's) unused for longer than `ttl` (and, when given, created after `createdAfter`),
    /// that no live run holds. A failure on one is logged; the pass goes on.
    package func collect(
        ttl: Duration, createdAfter: Date? = nil, scope: Reaper.Scope = Reaper.Scope(), dryRun: Bool = false
    ) async throws -> Report {
        var report = Report()
        let now = Date()
        let seconds = Double(ttl.components.seconds)
        let owned = try await admin.ownedDatabases()   // one listing for templates and ready clones
        for database in owned where database.marker.kind == .template && scope.contains(database) {
            guard let lastUsed = database.marker.lastUsedDate, now.timeIntervalSince(lastUsed) >= seconds else { continue }
            if let createdAfter, (database.marker.createdDate ?? .distantPast) < createdAfter { continue }
            guard (try? await admin.ownsDatabase(database.name)) == true else { continue }
            if dryRun { report.dropped.append(database.name); continue }
            do {
                let dropped = try await admin.ifTemplateUnused(database.name) { _ = try await admin.dropDatabase(database.name) }
                if dropped { report.dropped.append(database.name) } else { report.inUse.append(database.name) }
            } catch {
                logger.warning("could not collect the template \(database.name): \(error)")
            }
        }
        // Ready clones (the warm pool) go with their template, or when their template is gone,
        // or when they were left longer ago than the TTL (after `createdAfter`, when given).
        let templates = Set(owned.filter { $0.marker.kind == .template }.map(\.name)).subtracting(report.dropped)
        for database in owned where database.marker.kind == .ready && scope.contains(database) {
            let orphaned = database.marker.template.map { !templates.contains($0) } ?? true
            let left = database.marker.createdDate ?? .distantPast
            let aged = now.timeIntervalSince(left) >= seconds && left >= (createdAfter ?? .distantPast)
            guard orphaned || aged else { continue }
            if dryRun { report.readyDropped.append(database.name); continue }
            do {
                try await admin.dropDatabase(database.name)
                report.readyDropped.append(database.name)
            } catch {
                logger.warning("could not collect the ready clone \(database.name): \(error)")
            }
        }
        if !report.dropped.isEmpty {
            logger.notice("collected \(report.dropped.count) template(s) unused for \(Int(seconds)) s or more: \(report.dropped.joined(separator: ", "))")
        }
        return report
    }
}
