import Hummingbird
import PostgresNIO

/// `POST /customers` and `POST /customers/{id}/subscriptions`.
struct CustomerController<Context: RequestContext> {
    let repository: CustomerRepository

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .post(use: self.create)
            .post(":id/subscriptions", use: self.subscribe)
    }

    /// Creates a customer: 201 with the customer, 400 on invalid input, 409 if the email is taken.
    @Sendable
    func create(request: Request, context: Context) async throws -> EditedResponse<Customer> {
        let input = try await request.decode(as: CreateCustomerRequest.self, context: context)
        let email = input.email.lowercased()
        guard email.contains("@"), !input.name.isEmpty else {
            throw HTTPError(.badRequest, message: "a customer needs an email address and a name")
        }
        do {
            return EditedResponse(status: .created, response: try await repository.create(email: email, name: input.name))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw HTTPError(.conflict, message: "a customer with email \(email) already exists")
        }
    }

    /// Subscribes a customer to an active notification type: 204, or 404 if either is unknown.
    @Sendable
    func subscribe(request: Request, context: Context) async throws -> HTTPResponse.Status {
        let id = try context.parameters.require("id", as: Int64.self)
        let input = try await request.decode(as: SubscriptionRequest.self, context: context)
        guard try await repository.subscribe(customerID: id, to: input.notificationType) else {
            throw HTTPError(.notFound, message: "no customer \(id), or no active notification type \(input.notificationType)")
        }
        return .noContent
    }
}
