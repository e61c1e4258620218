import Foundation
import Logging

/// Chooses `WAL_LOG` or `FILE_COPY` for clones by timing both on the server in use.
///
/// `PGTESTKIT_CLONE_STRATEGY=wal_log|file_copy` skips the measurement.
enum CloneStrategyProbe {
    /// The strategy for clones of `template`: forced by the environment, remembered in the
    /// template's marker, or measured now (and then remembered there).
    static func choose(template: TemplateBuilder.Outcome, admin: AdminConnection, logger: Logger) async throws -> CloneStrategy? {
        guard admin.serverMajorVersion >= 15 else { return nil }
        if let forced = ProcessInfo.processInfo.environment["PGTESTKIT_CLONE_STRATEGY"],
           let strategy = CloneStrategy(rawValue: forced.uppercased()) {
            logger.info("clone strategy \(strategy.rawValue) (PGTESTKIT_CLONE_STRATEGY)")
            return strategy
        }
        if let remembered = template.marker?.cloneStrategy.flatMap(CloneStrategy.init(rawValue:)) {
            logger.info("clone strategy \(remembered.rawValue), as measured when the template was built")
            return remembered
        }
        let measured = try await measure(template: template.name, admin: admin, logger: logger)
        if let measured, var marker = template.marker, try await admin.ownsDatabase(template.name) {
            marker.cloneStrategy = measured.rawValue
            try await admin.writeMarker(marker, on: template.name)
        }
        return measured
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
