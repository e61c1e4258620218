import PostgresTestKit
import PostgresTestKitTesting
import Testing
import VaporNotifications
import VaporTesting

/// `POST /customers` and subscriptions against each test's own database, in parallel.
@Suite(.testDatabase(.vaporNotifications))
struct CustomerRouteTests {
    @Test func createsACustomer() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.POST, "customers", beforeRequest: { req in
                try req.content.encode(CreateCustomerRequest(email: "Ann@Example.com", name: "Ann"))
            }, afterResponse: { res async throws in
                #expect(res.status == .created)
                let customer = try res.content.decode(CustomerDTO.self)
                #expect(customer.email == "ann@example.com")
                #expect(customer.id != nil)
            })
        }
        #expect(try await db.scalar("SELECT name FROM customers WHERE email = $1", "ann@example.com", as: String.self) == "Ann")
    }

    /// Three cases in parallel, each creating the same customer: each has its own database,
    /// so none meets another's row.
    @Test(arguments: 1...3)
    func everyCaseStartsEmpty(case number: Int) async throws {
        let db = try #require(PostgresTestDatabase.current)
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.POST, "customers", beforeRequest: { req in
                try req.content.encode(CreateCustomerRequest(email: "bo@example.com", name: "Bo \(number)"))
            }, afterResponse: { res async throws in
                #expect(res.status == .created)
            })
        }
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 1)
    }

    @Test func refusesATakenEmail() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await db.execute("INSERT INTO customers (id, email, name) VALUES (gen_random_uuid(), $1, $2)", "cy@example.com", "Cy")
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.POST, "customers", beforeRequest: { req in
                try req.content.encode(CreateCustomerRequest(email: "cy@example.com", name: "Another Cy"))
            }, afterResponse: { res async throws in
                #expect(res.status == .conflict)
            })
        }
    }

    @Test func refusesAnInvalidEmail() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await withNotificationsApp(on: db.connectionDetails) { app in
            try await app.testing().test(.POST, "customers", beforeRequest: { req in
                try req.content.encode(CreateCustomerRequest(email: "not an email", name: "Di"))
            }, afterResponse: { res async throws in
                #expect(res.status == .badRequest)
            })
        }
        #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
    }

    /// Subscribing needs the seeded reference data: the notification type must be there.
    @Test func subscribesToASeededType() async throws {
        let db = try #require(PostgresTestDatabase.current)
        try await withNotificationsApp(on: db.connectionDetails) { app in
            let created = try await app.testing().sendRequest(.POST, "customers", beforeRequest: { req in
                try req.content.encode(CreateCustomerRequest(email: "ed@example.com", name: "Ed"))
            })
            let id = try #require(try created.content.decode(CustomerDTO.self).id)
            for _ in 1...2 {   // a second subscription is a no-op
                try await app.testing().test(.POST, "customers/\(id)/subscriptions", beforeRequest: { req in
                    try req.content.encode(SubscriptionRequest(notificationType: "order_shipped"))
                }, afterResponse: { res async throws in
                    #expect(res.status == .noContent)
                })
            }
            try await app.testing().test(.POST, "customers/\(id)/subscriptions", beforeRequest: { req in
                try req.content.encode(SubscriptionRequest(notificationType: "no_such_type"))
            }, afterResponse: { res async throws in
                #expect(res.status == .notFound)
            })
        }
        let subscribed = try await db.scalar("""
            SELECT string_agg(t.name, ',') FROM customer_notification_types s
            JOIN notification_types t ON t.id = s.notification_type_id
            """, as: String?.self)
        #expect(subscribed == "order_shipped")
    }
}
