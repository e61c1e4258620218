/// The canonical list of notification kinds, defined in code. The `notification_types` table
/// mirrors it through ``syncNotificationTypes(on:catalog:)``.
public struct NotificationCatalog: Sendable, Hashable {
    /// The kinds, in a stable order.
    public let kinds: [NotificationKind]

    /// A catalog of the given kinds.
    public init(kinds: [NotificationKind]) {
        self.kinds = kinds
    }

    /// The app's catalog.
    public static let standard = NotificationCatalog(kinds: [
        NotificationKind(name: "order_shipped", description: "Your order is on its way"),
        NotificationKind(name: "payment_failed", description: "A payment could not be taken"),
        NotificationKind(name: "weekly_digest", description: "A summary of the week"),
        NotificationKind(name: "password_changed", description: "Your password was changed"),
    ])

    /// A value that changes whenever the catalog does (for a seeder's version).
    public var version: String {
        kinds.map { "\($0.name)=\($0.description)" }.joined(separator: ";")
    }
}
