import Foundation
import Logging

/// A few admin connections for the `CREATE DATABASE`s of clones made on demand, so that a
/// burst of parallel acquires — a Swift Testing suite starting all its tests at once — is
/// served at the server's own rate instead of one create at a time.
///
/// Lanes open lazily, only as concurrency asks for them, up to ``limit``: the server's cores
/// when it runs on this machine (the embedded server, a socket, loopback), else 4;
/// `PGTESTKIT_CREATE_CONNECTIONS` overrides it. More lanes than cores only queue inside the
/// server.
actor AdminLanes {
    private let server: ConnectionString
    private let runID: RunID
    private let logger: Logger
    /// The most lanes this run opens.
    nonisolated let limit: Int
    private var idle: [AdminConnection] = []
    private var opened = 0
    /// Acquires waiting for a lane, oldest first; a cancelled one leaves the line at once.
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<AdminConnection?, Never>)] = []
    private var nextWaiter: UInt64 = 0
    private var closed = false

    init(server: ConnectionString, runID: RunID, limit: Int, logger: Logger) {
        self.server = server
        self.runID = runID
        self.limit = max(1, limit)
        self.logger = logger
    }

    /// The default bound: `PGTESTKIT_CREATE_CONNECTIONS`, else the local cores (capped at 8)
    /// for a local server, else 4.
    static func defaultLimit(host: String, configured: Int?) -> Int {
        if let configured, configured > 0 { return configured }
        let local = host.isEmpty || host.hasPrefix("/") || ["localhost", "127.0.0.1", "::1"].contains(host)
        return local ? min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)) : 4
    }

    /// Runs `body` on a lane, waiting for one when all are busy.
    func withLane<T: Sendable>(_ body: @Sendable (AdminConnection) async throws -> T) async throws -> T {
        let lane = try await take()
        do {
            let result = try await body(lane)
            await give(lane)
            return result
        } catch let error as PGError where error.code == .connectionClosed {
            opened -= 1   // a dead lane is not given back; the next take opens a fresh one
            await lane.close()
            wakeOne()
            throw error
        } catch {
            await give(lane)
            throw error
        }
    }

    /// Opens the first lane ahead of the first create, unless one is open; a failure is left
    /// for that create to meet (and report).
    func openOne() async {
        guard !closed, opened == 0, idle.isEmpty else { return }
        opened += 1
        do {
            await give(try await AdminConnection.connect(
                to: server, runID: runID, applicationName: runID.adminApplicationName + ":create\(opened)", logger: logger))
        } catch {
            opened -= 1
            wakeOne()
        }
    }

    private func take() async throws -> AdminConnection {
        guard !closed else { throw TestKitError(.configuration, "the manager was shut down; no new database is created") }
        if let lane = idle.popLast() { return lane }
        if opened < limit {
            opened += 1
            do {
                return try await AdminConnection.connect(
                    to: server, runID: runID, applicationName: runID.adminApplicationName + ":create\(opened)", logger: logger)
            } catch {
                opened -= 1
                // Those who queued behind this open try theirs (and fail alike on a server that
                // is gone): none waits for a lane that will never be given back.
                wakeOne()
                throw error
            }
        }
        nextWaiter += 1
        let id = nextWaiter
        let lane = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<AdminConnection?, Never>) in
                if Task.isCancelled { continuation.resume(returning: nil) } else { waiting.append((id, continuation)) }
            }
        } onCancel: {
            Task { await self.leaveTheLine(id) }
        }
        if Task.isCancelled {   // a lane handed to a cancelled acquire goes back
            if let lane { await give(lane) }
            throw CancellationError()
        }
        if let lane { return lane }
        return try await take()   // a lane died meanwhile: open another
    }

    /// A cancelled acquire stops waiting for a lane.
    private func leaveTheLine(_ id: UInt64) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(returning: nil)
    }

    private func give(_ lane: AdminConnection) async {
        if closed {
            await lane.close()
        } else if waiting.isEmpty {
            idle.append(lane)
        } else {
            waiting.removeFirst().continuation.resume(returning: lane)
        }
    }

    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().continuation.resume(returning: nil) }
    }

    /// Closes every lane.
    func close() async {
        closed = true
        for waiter in waiting { waiter.continuation.resume(returning: nil) }
        waiting.removeAll()
        let lanes = idle
        idle.removeAll()
        for lane in lanes { await lane.close() }
    }
}
