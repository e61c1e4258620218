import Hummingbird

/// A customer as the API returns it.
public struct Customer: ResponseCodable, Hashable {
    /// The customer's id.
    public let id: Int64
    /// The email address (lowercased).
    public let email: String
    /// The name.
    public let name: String

    /// A customer with its fields.
    public init(id: Int64, email: String, name: String) {
        self.id = id
        self.email = email
        self.name = name
    }
}
