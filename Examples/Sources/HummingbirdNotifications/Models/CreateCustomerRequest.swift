/// The body of `POST /customers`.
public struct CreateCustomerRequest: Codable, Sendable {
    /// The email address.
    public var email: String
    /// The name.
    public var name: String

    /// A request with its fields.
    public init(email: String, name: String) {
        self.email = email
        self.name = name
    }
}
