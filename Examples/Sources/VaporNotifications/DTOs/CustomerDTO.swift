import Vapor

/// A customer as the API returns it.
public struct CustomerDTO: Content, Equatable {
    /// The customer's id.
    public var id: UUID?
    /// The email address.
    public var email: String
    /// The name.
    public var name: String

    /// A DTO with its fields.
    public init(id: UUID?, email: String, name: String) {
        self.id = id
        self.email = email
        self.name = name
    }
}
