import Fluent
import Foundation

/// A customer of the app.
public final class Customer: Model, @unchecked Sendable {
    /// The table.
    public static let schema = "customers"

    /// The primary key.
    @ID(key: .id)
    public var id: UUID?

    /// The customer's email address, unique.
    @Field(key: "email")
    public var email: String

    /// The customer's name.
    @Field(key: "name")
    public var name: String

    /// When the customer was created.
    @Timestamp(key: "created_at", on: .create)
    public var createdAt: Date?

    /// The notification types the customer subscribed to.
    @Siblings(through: CustomerNotificationType.self, from: \.$customer, to: \.$notificationType)
    public var notificationTypes: [NotificationType]

    /// An empty model, for Fluent.
    public init() {}

    /// A customer with its fields.
    public init(id: UUID? = nil, email: String, name: String) {
        self.id = id
        self.email = email
        self.name = name
    }

    /// What the API returns for it.
    public func toDTO() -> CustomerDTO {
        CustomerDTO(id: id, email: email, name: name)
    }
}
