import Hummingbird

/// A notification type as the API returns it (a row of `notification_types`).
public struct NotificationType: ResponseCodable, Hashable {
    /// The kind's unique name.
    public let name: String
    /// The description shown to customers.
    public let description: String

    /// A notification type with its fields.
    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}
