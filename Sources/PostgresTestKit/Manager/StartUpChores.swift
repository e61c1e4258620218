import Synchronization

/// The start-up chores a test process does once per server, not once per manager: reaping what
/// dead runs left (once per prefix) and collecting stale templates. A suite of eight managers
/// starting at once did each eight times, competing with the template builds and adoptions
/// that the first tests wait for.
///
/// The first manager to ask does a chore; the others wait for the same outcome. A chore that
/// failed is forgotten, so that the next preparation tries it again.
enum StartUpChores {
    private static let chores = Mutex([String: Task<Result<Void, any Error>, Never>]())

    /// Runs `chore` once per `key` in this process (see the type's documentation).
    static func once(_ key: String, _ chore: @escaping @Sendable () async throws -> Void) async throws {
        let task = chores.withLock { chores in
            if let running = chores[key] { return running }
            let task = Task { () -> Result<Void, any Error> in
                do { return .success(try await chore()) } catch { return .failure(error) }
            }
            chores[key] = task
            return task
        }
        if case .failure(let error) = await task.value {
            chores.withLock { chores in
                if chores[key] == task { chores[key] = nil }
            }
            throw error
        }
    }
}
