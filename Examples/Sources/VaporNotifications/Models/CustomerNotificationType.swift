import Fluent
import Foundation

/// A customer's subscription to a notification type (the pivot of the many-to-many).
public final class CustomerNotificationType: Model, @unchecked Sendable {
    /// The table.
    public static let schema = "customer_notification_types"

    /// The primary key.
    @ID(key: .id)
    public var id: UUID?

    /// The subscribed customer.
    @Parent(key: "customer_id")
    public var customer: Customer

    /// The notification type subscribed to.
    @Parent(key: "notification_type_id")
    public var notificationType: NotificationType

    /// When the subscription was made.
    @Timestamp(key: "subscribed_at", on: .create)
    public var subscribedAt: Date?

    /// An empty model, for Fluent.
    public init() {}
}
