/// One kind of notification the app can send: its logic lives in code, its row in
/// `notification_types`.
public struct NotificationKind: Sendable, Hashable {
    /// The unique name stored in `notification_types.name`.
    public let name: String
    /// The description shown to customers.
    public let description: String

    /// A kind with a name and a description.
    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}
