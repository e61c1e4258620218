import Synchronization

/// A notice or warning the server sent on a connection (`RAISE NOTICE`, `WARNING`, ...).
public struct Notice: Sendable, CustomStringConvertible {
    /// `NOTICE`, `WARNING`, `INFO`, ...
    public let severity: String
    /// The SQLSTATE of the notice.
    public let sqlState: SQLState?
    /// The message text.
    public let message: String

    public var description: String { "\(severity): \(message)" }
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
