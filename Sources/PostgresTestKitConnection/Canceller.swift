import CLibPQ
import Dispatch
import Synchronization

/// Sends `PQcancel` for one statement of a connection, from any thread, as task cancellation
/// requires.
///
/// `PQcancel` is the one libpq call that is safe while another thread is blocked in the same
/// connection. Each statement gets a token, so cancelling one task never cancels the statement
/// of another task that shares the connection; the cancel request itself (a network round
/// trip) is sent from a dispatch queue, never from the cancelling task's thread.
final class Canceller: Sendable {
    /// A `PGcancel*`, freed when the last holder lets it go: a cancel request in flight keeps
    /// it alive after ``release()``, so the request is sent without holding the lock. libpq
    /// documents `PQcancel` as safe from any thread.
    private final class Handle: @unchecked Sendable {
        let pointer: OpaquePointer
        init(pointer: OpaquePointer) { self.pointer = pointer }
        deinit { PQfreeCancel(pointer) }
    }
    private struct State: ~Copyable {
        var handle: Handle?
        var nextToken: UInt64 = 0
        var running: UInt64?
        var cancelledBeforeStart: Set<UInt64> = []
        var cancelSent: UInt64?
    }
    private let state = Mutex<State>(State())

    func install(_ handle: OpaquePointer?) {
        let wrapped = handle.map(Handle.init(pointer:))
        state.withLock { $0.handle = wrapped }
    }

    /// A token for a statement about to be sent.
    func token() -> UInt64 {
        state.withLock { state in
            state.nextToken += 1
            return state.nextToken
        }
    }

    /// Marks the statement as running; returns false if it was cancelled before it started.
    func start(_ token: UInt64) -> Bool {
        state.withLock { state in
            if state.cancelledBeforeStart.remove(token) != nil { return false }
            state.running = token
            return true
        }
    }

    /// Marks the statement as finished.
    func finish(_ token: UInt64) {
        state.withLock { state in
            if state.running == token { state.running = nil }
        }
    }

    /// Whether a cancel request was sent for this statement (a 57014 then means "cancelled by
    /// its task", not a `statement_timeout`).
    func wasCancelled(_ token: UInt64) -> Bool {
        state.withLock { $0.cancelSent == token }
    }

    /// Cancels the statement with this token: now if it runs, or as soon as it would start.
    func cancel(_ token: UInt64) {
        let running = state.withLock { state -> Bool in
            if state.running == token { return true }
            state.cancelledBeforeStart.insert(token)
            return false
        }
        guard running else { return }
        DispatchQueue.global().async { [self] in
            // Only the decision is taken under the lock; the request (a network round trip)
            // is sent after it, so the connection's own calls never wait for it.
            let handle = state.withLock { state -> Handle? in
                guard state.running == token, let handle = state.handle else { return nil }
                state.cancelSent = token
                return handle
            }
            guard let handle else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.pointer, &buffer, Int32(buffer.count))
        }
    }

    /// Lets the handle go (freed once no cancel request holds it).
    func release() {
        state.withLock { $0.handle = nil }
    }
}
