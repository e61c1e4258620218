import Hummingbird
import HummingbirdNotifications
import HummingbirdTesting
import PostgresTestKit
import PostgresTestKitTesting
import Testing

/// `POST /customers` and subscriptions against each test's own database, in parallel.
@Suite(.testDatabase(.hummingbirdNotifications))
struct CustomerRouteTests {
    @Test func createsACustomer() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            let body = try ByteBuffer.json(CreateCustomerRequest(email: "Ann@Example.com", name: "Ann"))
            try await client.execute(uri: "/customers", method: .post, body: body) { response async throws in
                #expect(response.status == .created)
                #expect(try response.decode(Customer.self).email == "ann@example.com")
            }
        }
        #expect(try await db.scalar("SELECT name FROM customers WHERE email = $1", "ann@example.com", as: String.self) == "Ann")
    }

    /// Three cases in parallel, each creating the same customer: each has its own database,
    /// so none meets another's row.
    @Test(arguments: 1...3)
    func everyCaseStartsEmpty(case number: Int) async throws {
        let db = try #require(PostgresTestDatabase.current)
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            let body = try ByteBuffer.json(CreateCustomerRequest(email: "bo@example.com", name: "Bo \(number)"))
            try await client.execute(uri: "/customers", method: .post, body: body) { response async throws in
                #expect(response.status == .created)
            }
        }
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 1)
    }

    @Test func refusesATakenEmail() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("INSERT INTO customers (email, name) VALUES ($1, $2)", "cy@example.com", "Cy")
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            let body = try ByteBuffer.json(CreateCustomerRequest(email: "cy@example.com", name: "Another Cy"))
            try await client.execute(uri: "/customers", method: .post, body: body) { response async throws in
                #expect(response.status == .conflict)
            }
        }
    }

    @Test func refusesAnInvalidEmail() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            let body = try ByteBuffer.json(CreateCustomerRequest(email: "not an email", name: "Di"))
            try await client.execute(uri: "/customers", method: .post, body: body) { response async throws in
                #expect(response.status == .badRequest)
            }
        }
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
    }

    /// Subscribing needs the seeded reference data: the notification type must be there.
    @Test func subscribesToASeededType() async throws {
        let db = try #require(PostgresTestDatabase.current)
        let app = buildApplication(database: .init(db.connectionDetails), logger: .tests)
        try await app.test(.router) { client in
            let body = try ByteBuffer.json(CreateCustomerRequest(email: "ed@example.com", name: "Ed"))
            let customer = try await client.execute(uri: "/customers", method: .post, body: body) { try $0.decode(Customer.self) }
            for _ in 1...2 {   // a second subscription is a no-op
                let subscription = try ByteBuffer.json(SubscriptionRequest(notificationType: "order_shipped"))
                try await client.execute(uri: "/customers/\(customer.id)/subscriptions", method: .post, body: subscription) { response async throws in
                    #expect(response.status == .noContent)
                }
            }
            let unknown = try ByteBuffer.json(SubscriptionRequest(notificationType: "no_such_type"))
            try await client.execute(uri: "/customers/\(customer.id)/subscriptions", method: .post, body: unknown) { response async throws in
                #expect(response.status == .notFound)
            }
        }
        let subscribed = try await db.scalar("""
            SELECT string_agg(t.name, ',') FROM customer_notification_types s
            JOIN notification_types t ON t.id = s.notification_type_id
            """, as: String?.self)
        #expect(subscribed == "order_shipped")
    }
}
