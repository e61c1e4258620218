import Logging

/// Ready-made clones of one template, created ahead in the background on their own admin
/// connection so that an acquire is a rename plus a connect.
actor ClonePool {
    private let admin: AdminConnection
    private let template: String
    private let strategy: CloneStrategy?
    private let target: Int
    private let prefix: String
    private let serverParameters: [String: String]
    private let logger: Logger
    private var ready: [String] = []
    private var counter = 0
    private var filler: Task<Void, Never>?
    private var closed = false

    init(admin: AdminConnection, template: String, strategy: CloneStrategy?, size: Int, prefix: String,
         serverParameters: [String: String], logger: Logger) {
        self.admin = admin
        self.template = template
        self.strategy = strategy
        self.target = size
        self.prefix = prefix
        self.serverParameters = serverParameters
        self.logger = logger
    }

    /// Starts filling the pool.
    func start() { refill() }

    /// Takes a ready clone, if one is there. The replacement is made once the test holds its
    /// database (``replenish()``), so that a `CREATE DATABASE` does not compete with the
    /// test's own connect on the critical path.
    func take() -> String? {
        ready.isEmpty ? nil : ready.removeFirst()
    }

    /// Starts making clones until the pool is full again; returns at once.
    func replenish() { refill() }

    /// How many clones are ready now.
    var count: Int { ready.count }

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
                ready.append(name)
            } catch {
                logger.warning("the clone pool could not create \(name); acquires will create clones directly: \(error)")
                break
            }
        }
        filler = nil
    }

    /// Drops every pooled clone and closes the pool's connection.
    func close() async {
        closed = true
        await filler?.value
        for name in ready {
            _ = try? await admin.dropDatabase(name)
            ExitCleanup.shared.forget(name)
        }
        ready.removeAll()
        await admin.close()
    }
}
