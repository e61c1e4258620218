import Foundation
import Logging

/// Drops released databases off the test's critical path: on its own admin connection, and
/// when a backlog builds up (a burst), on the manager's admin lanes too, in parallel.
actor BackgroundDropper {
    private let admin: AdminConnection
    private let lanes: AdminLanes?
    private let logger: Logger
    private var queue: [(String, PhaseLog?)] = []
    private var worker: Task<Void, Never>?

    init(admin: AdminConnection, lanes: AdminLanes? = nil, logger: Logger) {
        self.admin = admin
        self.lanes = lanes
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
        // One worker on the dropper's own connection; more on the lanes while a backlog lasts.
        let helpers = min(queue.count - 1, (lanes?.limit ?? 1) - 1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.work(onLanes: false) }
            for _ in 0..<max(0, helpers) { group.addTask { await self.work(onLanes: true) } }
        }
        worker = nil
    }

    private func next() -> (String, PhaseLog?)? {
        queue.isEmpty ? nil : queue.removeFirst()
    }

    private func work(onLanes: Bool) async {
        while let (name, phases) = next() {
            let started = Date()
            do {
                do {
                    if onLanes, let lanes {
                        _ = try await lanes.withLane { try await $0.dropDatabase(name) }
                    } else {
                        try await admin.dropDatabase(name)
                    }
                } catch let error as TestKitError where error.code == .notOwned {
                    throw error
                } catch {
                    // Once more, on a lane (a fresh connection when the first one died): a drop
                    // that failed once under load must not wait for the exit's cleanup.
                    guard let lanes else { throw error }
                    logger.debug("dropping \(name) failed (\(error)); trying once more on a lane")
                    try? await Task.sleep(for: .milliseconds(100))
                    _ = try await lanes.withLane { try await $0.dropDatabase(name) }
                }
                try? phases?.enter(.dropped)
                let (row, span) = (phases?.timelineRow, TimelineSpan(.drop, from: started, to: Date()))
                RunReport.shared.update {
                    $0.databasesDropped += 1
                    $0.timeline.add(span, to: row)
                    $0.timeline.update(row) { $0.outcome = .dropped }
                }
            } catch {
                logger.warning("could not drop \(name) (the exit cleanup and the reaper will retry): \(error)")
            }
        }
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
