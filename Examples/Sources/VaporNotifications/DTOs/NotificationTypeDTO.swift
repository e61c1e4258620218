import Vapor

/// A notification type as the API returns it.
public struct NotificationTypeDTO: Content, Equatable {
    /// The kind's unique name.
    public var name: String
    /// The description shown to customers.
    public var description: String

    /// A DTO with its fields.
    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}
