import Fluent
import Vapor

/// `POST /customers` and `POST /customers/:customerID/subscriptions`.
struct CustomerController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let customers = routes.grouped("customers")
        customers.post(use: self.create)
        customers.post(":customerID", "subscriptions", use: self.subscribe)
    }

    /// Creates a customer: 201 with the customer, 400 on invalid input, 409 if the email is taken.
    @Sendable
    func create(req: Request) async throws -> Response {
        try CreateCustomerRequest.validate(content: req)
        let input = try req.content.decode(CreateCustomerRequest.self)
        let customer = Customer(email: input.email.lowercased(), name: input.name)
        do {
            try await customer.save(on: req.db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw Abort(.conflict, reason: "a customer with email \(customer.email) already exists")
        }
        return try await customer.toDTO().encodeResponse(status: .created, for: req)
    }

    /// Subscribes a customer to an active notification type: 204, or 404 if either is unknown.
    @Sendable
    func subscribe(req: Request) async throws -> HTTPStatus {
        guard let customer = try await Customer.find(req.parameters.get("customerID", as: UUID.self), on: req.db) else {
            throw Abort(.notFound, reason: "no such customer")
        }
        let input = try req.content.decode(SubscriptionRequest.self)
        guard let type = try await NotificationType.query(on: req.db)
            .filter(\.$name == input.notificationType)
            .filter(\.$isActive == true)
            .first()
        else {
            throw Abort(.notFound, reason: "no active notification type \(input.notificationType)")
        }
        try await customer.$notificationTypes.attach(type, method: .ifNotExists, on: req.db)
        return .noContent
    }
}
