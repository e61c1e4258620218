import Dispatch

/// The serial executor that every ``Connection`` runs on: one dispatch queue per connection.
///
/// libpq calls block their thread until the server answers. Running them on this executor
/// keeps them off Swift's cooperative thread pool, and keeps the calls of one connection in
/// order without a lock.
final class ConnectionExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: "pgtestkit.connection.\(label)")
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
