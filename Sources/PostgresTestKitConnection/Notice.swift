import Synchronization

/// A notice or warning the server sent on a connection (`RAISE NOTICE`, `WARNING`, ...).
package struct Notice: Sendable, CustomStringConvertible {
    /// `NOTICE`, `WARNING`, `INFO`, ...
    package let severity: String
    /// The SQLSTATE of the notice.
    package let sqlState: SQLState?
    /// The message text.
    package let message: String

    package var description: String { "\(severity): \(message)" }
}

/// Collects the notices libpq's notice receiver hands over, from libpq's thread.
final class NoticeCollector: Sendable {
    private let notices = Mutex<[Notice]>([])

    func append(_ notice: Notice) {
        notices.withLock { $0.append(notice) }
    }

    func snapshot() -> [Notice] { notices.withLock { $0 } }

    func drain() -> [Notice] {
        notices.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }
}
