import Foundation
import Logging

/// Chooses `WAL_LOG` or `FILE_COPY` for clones by timing both on the server in use.
///
/// A new template takes the strategy chosen for another template of the toolkit's on the
/// same server whose size (recorded in its marker) is within a factor of two of its own (a
/// *kin*): which strategy is faster depends on the server (its disk, `fsync`) and the
/// template's size, not on its schema. Only without a kin is it measured — four creates and
/// drops, half a second on a busy machine, paid by every suite whose template is new (a test
/// that builds one of its own).
///
/// `PGTESTKIT_CLONE_STRATEGY=wal_log|file_copy` skips the measurement.
enum CloneStrategyProbe {
    /// The strategy for clones of `template`: forced by the environment, remembered in the
    /// template's marker, or measured now (and then remembered there).
    static func choose(template: TemplateBuilder.Outcome, forced: CloneStrategy?, admin: AdminConnection, logger: Logger) async throws -> CloneStrategy? {
        guard admin.serverMajorVersion >= 15 else { return nil }
        if let forced {
            logger.info("clone strategy \(forced.rawValue) (PGTESTKIT_CLONE_STRATEGY)")
            return forced
        }
        if let remembered = template.marker?.cloneStrategy.flatMap(CloneStrategy.init(rawValue:)) {
            logger.info("clone strategy \(remembered.rawValue), as measured when the template was built")
            return remembered
        }
        let size = try await admin.connection.scalar("SELECT pg_database_size($1::text)", template.name, as: Int64.self)
        var measured = try await kin(of: template.name, size: size, admin: admin, logger: logger)
        if measured == nil { measured = try await measure(template: template.name, admin: admin, logger: logger) }
        if let measured, var marker = template.marker, try await admin.ownsDatabase(template.name) {
            marker.cloneStrategy = measured.rawValue
            marker.size = size
            try await admin.writeMarker(marker, on: template.name)
        }
        return measured
    }

    /// The strategy chosen for a template of the toolkit's on this server whose size (recorded
    /// in its marker when its strategy was chosen) is within a factor of two of `size` — of the
    /// same prefix if there is one, then the closest in size; `nil` when there is none. One
    /// listing of the templates' markers: no walk of their files.
    private static func kin(of template: String, size: Int64, admin: AdminConnection, logger: Logger) async throws -> CloneStrategy? {
        guard size > 0 else { return nil }
        let templates = try await admin.ownedDatabases(templatesOnly: true)
        // The closest in size, one of the same prefix (the same project) first.
        let ownPrefix = template.split(separator: "_").first.map(String.init) ?? template
        var kin: (name: String, strategy: CloneStrategy, rank: (Int, Double))?
        for database in templates where database.name != template && database.marker.kind == .template {
            guard let strategy = database.marker.cloneStrategy.flatMap(CloneStrategy.init(rawValue:)),
                  let kinSize = database.marker.size, kinSize > 0 else { continue }
            let ratio = Double(max(kinSize, size)) / Double(min(kinSize, size))
            let rank = (database.name.hasPrefix(ownPrefix + "_") ? 0 : 1, ratio)
            if ratio <= 2, kin.map({ rank < $0.rank }) ?? true { kin = (database.name, strategy, rank) }
        }
        guard let kin else { return nil }
        logger.info("clone strategy \(kin.strategy.rawValue), as chosen for \(kin.name), a template of a size like this one's (\(size >> 20) MB)")
        return kin.strategy
    }

    private static func measure(template: String, admin: AdminConnection, logger: Logger) async throws -> CloneStrategy? {
        var best: (CloneStrategy, Duration)?
        for strategy in CloneStrategy.allCases {
            var fastest = Duration.seconds(3600)
            for attempt in 0..<2 {
                let name = "\(template.prefix(40))_probe_\(admin.runID)_\(attempt)"
                let started = ContinuousClock.now
                try await admin.createDatabase(name, template: template, strategy: strategy, marker: OwnerMarker(kind: .clone, run: admin.runID))
                fastest = min(fastest, ContinuousClock.now - started)
                try await admin.dropDatabase(name)
            }
            if best == nil || fastest < best!.1 { best = (strategy, fastest) }
            logger.debug("clone strategy \(strategy.rawValue): \(String(format: "%.1f", fastest.milliseconds)) ms")
        }
        if let best {
            logger.info("clone strategy \(best.0.rawValue), measured fastest on this server (\(String(format: "%.1f", best.1.milliseconds)) ms per clone)")
        }
        return best?.0
    }
}
