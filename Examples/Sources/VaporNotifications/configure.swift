import Fluent
import FluentPostgresDriver
import Vapor

/// Configures the app: its database, its Fluent migrations and its routes.
///
/// The database comes from the caller, so that tests hand in their own test database
/// (`.postgres(url: db.connectionDetails.postgresKitURL)`) and a deployment hands in its
/// `DATABASE_URL` — the app never builds a throw-away configuration of its own.
///
/// Reference data is synced by ``migrateAndSyncCatalog(_:catalog:)`` after the migrations.
/// `seedOnBoot: true` registers ``NotificationCatalogBootSync`` instead, which syncs as the app
/// boots — before anyone migrated a fresh database. That is the bug this example exists to show.
///
/// - Parameters:
///   - app: the application to configure.
///   - database: the PostgreSQL database to use (registered as `.psql`, the default).
///   - seedOnBoot: also sync the catalog from a boot-time lifecycle handler (the bug).
public func configure(_ app: Application, database: DatabaseConfigurationFactory, seedOnBoot: Bool = false) async throws {
    app.databases.use(database, as: .psql)

    app.migrations.add(CreateCustomer())
    app.migrations.add(CreateNotificationType())
    app.migrations.add(CreateCustomerNotificationType())

    if seedOnBoot {
        app.lifecycle.use(NotificationCatalogBootSync(catalog: .standard))
    }

    try routes(app)
}
