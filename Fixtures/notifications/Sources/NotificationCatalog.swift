/// The canonical registry of notification kinds, defined in Swift (the article's
/// `NotifyCatalog`). The database mirrors it through ``NotificationTypeSync``.
public struct NotificationCatalog: Sendable {
    /// The kinds, in a stable order.
    public let kinds: [NotificationKind]

    /// A catalog of the given kinds.
    public init(kinds: [NotificationKind]) { self.kinds = kinds }

    /// The app's catalog.
    public static let standard = NotificationCatalog(kinds: [
        NotificationKind(name: "order_shipped", description: "Your order is on its way"),
        NotificationKind(name: "payment_failed", description: "A payment could not be taken"),
        NotificationKind(name: "weekly_digest", description: "A summary of the week"),
        NotificationKind(name: "password_changed", description: "Your password was changed"),
    ])

    /// A copy without one kind (to show deactivation).
    public func removing(_ name: String) -> NotificationCatalog {
        NotificationCatalog(kinds: kinds.filter { $0.name != name })
    }
}
