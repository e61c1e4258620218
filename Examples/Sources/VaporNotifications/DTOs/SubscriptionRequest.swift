import Vapor

/// The body of `POST /customers/:customerID/subscriptions`.
public struct SubscriptionRequest: Content {
    /// The name of the notification type to subscribe to.
    public var notificationType: String

    /// A request for one notification type.
    public init(notificationType: String) {
        self.notificationType = notificationType
    }
}
