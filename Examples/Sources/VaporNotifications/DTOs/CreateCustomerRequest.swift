import Vapor

/// The body of `POST /customers`.
public struct CreateCustomerRequest: Content, Validatable {
    /// The email address (stored lowercased).
    public var email: String
    /// The name.
    public var name: String

    /// A request with its fields.
    public init(email: String, name: String) {
        self.email = email
        self.name = name
    }

    public static func validations(_ validations: inout Validations) {
        validations.add("email", as: String.self, is: .email)
        validations.add("name", as: String.self, is: !.empty)
    }
}
