import Foundation
import PostgresTestKit

/// The package's root directory: this file is in Tests/AppTests/.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

extension TestDatabaseManager {
    /// Your migrations build a template once; your seeders fill it after them; every test
    /// gets its own clone of it.
    static let app = TestDatabaseManager(
        migrations: .sqlDirectory(packageRoot.appendingPathComponent("Migrations")),
        seeders: [
            Seeders.sqlFiles([packageRoot.appendingPathComponent("Seeds/plans.sql")]),
            Seeders.closure(identity: "admin", version: "1") { context in
                try await context.connection.execute(
                    "INSERT INTO users (email, plan) VALUES ($1, $2)", "admin@example.com", "pro")
            },
        ]
    )
}
