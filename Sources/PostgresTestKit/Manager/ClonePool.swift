import Foundation
import Logging

/// Ready-made clones of one template, created and connected ahead in the background on their
/// own admin connection, so that acquiring from a warm pool is a pop: the clone exists, its
/// toolkit connection is open and its connect hooks have run.
///
/// Pooled clones keep their pool name (`<prefix>_<run>_p<n>`): a database cannot be renamed
/// while a connection is open to it. The test's name goes into the owner marker instead,
/// written in the background.
actor ClonePool {
    /// A clone with its open, hook-initialised toolkit connection.
    struct ReadyClone: Sendable {
        let name: String
        let connection: Connection
    }

    private let admin: AdminConnection
    private let template: String
    private let strategy: CloneStrategy?
    private var target: Int
    /// The most clones a learned burst grows the pool to (`PGTESTKIT_POOL_MAX`, default 8).
    private let ceiling: Int
    private let namePrefix: String
    private let serverParameters: [String: String]
    private let applicationName: String
    private let hookGuard: HookGuard
    private let logger: Logger
    private var ready: [ReadyClone] = []
    private var annotations: [String: Task<Void, Never>] = [:]
    private var counter = 0
    private var filler: Task<Void, Never>?
    private var closed = false

    init(admin: AdminConnection, template: String, strategy: CloneStrategy?, size: Int, namePrefix: String,
         serverParameters: [String: String], applicationName: String, hookGuard: HookGuard, logger: Logger) {
        self.admin = admin
        self.template = template
        self.strategy = strategy
        self.target = size
        self.ceiling = max(size, ProcessInfo.processInfo.environment["PGTESTKIT_POOL_MAX"].flatMap(Int.init) ?? 8)
        self.namePrefix = namePrefix
        self.serverParameters = serverParameters
        self.applicationName = applicationName
        self.hookGuard = hookGuard
        self.logger = logger
    }

    /// Starts filling the pool.
    func start() { refill() }

    /// Takes a ready clone, if one is there. The replacement is made when the test releases
    /// its database (``replenish()``), so that a `CREATE DATABASE` competes with neither the
    /// test's acquire nor its release.
    func take() -> ReadyClone? {
        guard !closed, !ready.isEmpty else { return nil }
        return ready.removeFirst()
    }

    /// Starts making clones until the pool is full again; returns at once.
    func replenish() { refill() }

    /// Learns from a miss: `burst` acquires were in flight at once, so keep that many ready
    /// (up to the ceiling) for the next burst; refills from now on aim there.
    func learn(burst: Int) {
        let grown = min(ceiling, max(target, burst))
        guard grown > target else { return }
        logger.debug("clone pool grows from \(target) to \(grown): \(burst) acquires came at once")
        target = grown
    }

    /// How many clones are ready now.
    var count: Int { ready.count }

    /// Writes the test's owner marker on a clone taken from the pool (off the critical path).
    func annotate(_ name: String, with marker: OwnerMarker) {
        annotations[name] = Task { [admin, logger] in
            do { try await admin.writeMarker(marker, on: name) }
            catch { logger.debug("could not write the marker of \(name): \(error)") }
        }
    }

    /// Waits for the marker write of a taken clone (before the marker is written again).
    func awaitAnnotation(of name: String) async {
        await annotations.removeValue(forKey: name)?.value
    }

    private func refill() {
        guard filler == nil, !closed, ready.count < target else { return }
        filler = Task { await self.fill() }
    }

    private func fill() async {
        while !closed && ready.count < target {
            counter += 1
            let name = "\(namePrefix)\(counter)"
            var created = false
            do {
                // The login is inside `creating` too: an exit waits for it, so that no login
                // is under way while the process's exit handlers tear libcrypto down.
                let connection = try await ExitCleanup.shared.creating(name, server: serverParameters) {
                    try await admin.createDatabase(name, template: template, strategy: strategy, marker: OwnerMarker(kind: .clone, run: admin.runID))
                    created = true
                    var parameters = serverParameters
                    parameters["dbname"] = name
                    return try await Connection.connect(to: .keywordForm(parameters), applicationName: applicationName, logger: logger)
                }
                do {
                    try await hookGuard.run(on: connection, database: name, phase: .connecting, migrated: true)
                } catch {
                    await connection.close()
                    throw error
                }
                if closed {
                    await connection.close()
                    _ = try? await admin.dropDatabase(name)
                    ExitCleanup.shared.forget(name)
                    break
                }
                ready.append(ReadyClone(name: name, connection: connection))
            } catch {
                // A refill racing the process's exit is expected, not a failure worth a warning.
                logger.log(level: ExitCleanup.shared.isExiting || closed ? .debug : .warning,
                           "the clone pool could not prepare \(name); acquires will create clones directly: \(error)")
                if created {   // only what this pool created; never a same-named database
                    _ = try? await admin.dropDatabase(name)
                    ExitCleanup.shared.forget(name)
                }
                break
            }
        }
        filler = nil
    }

    /// Drops every pooled clone and closes the pool's connections.
    func close() async {
        closed = true
        let clones = ready      // taken before any await: take() now returns nil
        ready.removeAll()
        await filler?.value
        let stragglers = ready  // made by a fill that was under way
        ready.removeAll()
        for clone in clones + stragglers {
            await clone.connection.close()
            _ = try? await admin.dropDatabase(clone.name)
            ExitCleanup.shared.forget(clone.name)
        }
        for annotation in annotations.values { await annotation.value }
        annotations.removeAll()
        await admin.close()
    }
}
