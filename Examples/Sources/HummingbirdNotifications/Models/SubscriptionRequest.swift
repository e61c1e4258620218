/// The body of `POST /customers/{id}/subscriptions`.
public struct SubscriptionRequest: Codable, Sendable {
    /// The name of the notification type to subscribe to.
    public var notificationType: String

    /// A request for one notification type.
    public init(notificationType: String) {
        self.notificationType = notificationType
    }
}
