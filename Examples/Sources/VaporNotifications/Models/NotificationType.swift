import Fluent
import struct Foundation.UUID

/// A row of `notification_types`: the database's copy of a ``NotificationKind``.
public final class NotificationType: Model, @unchecked Sendable {
    /// The table.
    public static let schema = "notification_types"

    /// The primary key.
    @ID(key: .id)
    public var id: UUID?

    /// The kind's unique name.
    @Field(key: "name")
    public var name: String

    /// The description shown to customers (column `description`).
    @Field(key: "description")
    public var summary: String

    /// Whether the kind is still in the catalog.
    @Field(key: "is_active")
    public var isActive: Bool

    /// The customers subscribed to this kind.
    @Siblings(through: CustomerNotificationType.self, from: \.$notificationType, to: \.$customer)
    public var customers: [Customer]

    /// An empty model, for Fluent.
    public init() {}

    /// A notification type with its fields.
    public init(id: UUID? = nil, name: String, summary: String, isActive: Bool = true) {
        self.id = id
        self.name = name
        self.summary = summary
        self.isActive = isActive
    }

    /// What the API returns for it.
    public func toDTO() -> NotificationTypeDTO {
        NotificationTypeDTO(name: name, description: summary)
    }
}
