import Logging

/// Drops released databases off the test's critical path, on its own admin connection.
actor BackgroundDropper {
    private let admin: AdminConnection
    private let logger: Logger
    private var queue: [(String, PhaseLog?)] = []
    private var worker: Task<Void, Never>?

    init(admin: AdminConnection, logger: Logger) {
        self.admin = admin
        self.logger = logger
    }

    /// Queues a database for dropping and returns at once.
    func enqueue(_ name: String, phases: PhaseLog?) {
        queue.append((name, phases))
        if worker == nil {
            worker = Task { await self.drain() }
        }
    }

    private func drain() async {
        // Let the release that queued the first drop return before the server starts the
        // (CPU- and I/O-heavy) DROP: on a small machine they would compete.
        try? await Task.sleep(for: .milliseconds(5))
        while !queue.isEmpty {
            let (name, phases) = queue.removeFirst()
            do {
                try await admin.dropDatabase(name)
                ExitCleanup.shared.forget(name)
                try? phases?.enter(.dropped)
                RunReport.shared.update { $0.databasesDropped += 1 }
            } catch {
                logger.warning("could not drop \(name) (the exit cleanup and the reaper will retry): \(error)")
            }
        }
        worker = nil
    }

    /// Waits until every queued drop is done.
    func flush() async {
        while let worker {
            await worker.value
        }
    }

    func close() async {
        await flush()
        await admin.close()
    }
}
