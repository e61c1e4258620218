import CLibPQ
import Synchronization

/// Sends `PQcancel` for a connection from any thread, as task cancellation requires.
///
/// `PQcancel` is the one libpq call that is safe to make while another thread is blocked in
/// the same connection; the cancel object is created once per connection.
final class Canceller: Sendable {
    /// A `PGcancel*`: libpq documents it as safe to use from any thread.
    private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }
    private struct State: ~Copyable {
        var handle: Handle?
        var requested = false
    }
    private let state = Mutex<State>(State())

    func install(_ handle: OpaquePointer?) {
        let wrapped = handle.map(Handle.init(pointer:))
        state.withLock { $0.handle = wrapped }
    }

    /// Called when a statement starts: forget any earlier request.
    func reset() {
        state.withLock { $0.requested = false }
    }

    var wasRequested: Bool { state.withLock { $0.requested } }

    /// Asks the server to cancel whatever the connection is running now.
    func cancel() {
        state.withLock { state in
            state.requested = true
            guard let handle = state.handle else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.pointer, &buffer, Int32(buffer.count))
        }
    }

    func release() {
        state.withLock { state in
            if let handle = state.handle { PQfreeCancel(handle.pointer) }
            state.handle = nil
        }
    }
}
