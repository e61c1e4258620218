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
    private let target: Int
    private let prefix: String
    private let serverParameters: [String: String]
    private let applicationName: String
    private let hookGuard: HookGuard
    private let logger: Logger
    private var ready: [ReadyClone] = []
    private var counter = 0
    private var filler: Task<Void, Never>?
    private var closed = false

    init(admin: AdminConnection, template: String, strategy: CloneStrategy?, size: Int, prefix: String,
         serverParameters: [String: String], applicationName: String, hookGuard: HookGuard, logger: Logger) {
        self.admin = admin
        self.template = template
        self.strategy = strategy
        self.target = size
        self.prefix = prefix
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
        ready.isEmpty ? nil : ready.removeFirst()
    }

    /// Starts making clones until the pool is full again; returns at once.
    func replenish() { refill() }

    /// How many clones are ready now.
    var count: Int { ready.count }

    /// Writes the test's owner marker on a clone taken from the pool (off the critical path).
    nonisolated func annotate(_ name: String, with marker: OwnerMarker) {
        Task { [admin, logger] in
            do { try await admin.writeMarker(marker, on: name) }
            catch { logger.debug("could not write the marker of \(name): \(error)") }
        }
    }

    private func refill() {
        guard filler == nil, !closed, ready.count < target else { return }
        filler = Task { await self.fill() }
    }

    private func fill() async {
        while !closed && ready.count < target {
            counter += 1
            let name = "\(prefix)_\(admin.runID)_p\(counter)"
            do {
                try await ExitCleanup.shared.creating(name, server: serverParameters) {
                    try await admin.createDatabase(name, template: template, strategy: strategy, marker: OwnerMarker(kind: .clone, run: admin.runID))
                }
                var parameters = serverParameters
                parameters["dbname"] = name
                let connection = try await Connection.connect(to: .keywordForm(parameters), applicationName: applicationName, logger: logger)
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
                logger.warning("the clone pool could not prepare \(name); acquires will create clones directly: \(error)")
                _ = try? await admin.dropDatabase(name)
                ExitCleanup.shared.forget(name)
                break
            }
        }
        filler = nil
    }

    /// Drops every pooled clone and closes the pool's connections.
    func close() async {
        closed = true
        await filler?.value
        for clone in ready {
            await clone.connection.close()
            _ = try? await admin.dropDatabase(clone.name)
            ExitCleanup.shared.forget(clone.name)
        }
        ready.removeAll()
        await admin.close()
    }
}
