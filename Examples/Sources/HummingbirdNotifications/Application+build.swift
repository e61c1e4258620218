import Hummingbird
import Logging
import PostgresNIO

/// The request context of the app's routes.
public typealias AppRequestContext = BasicRequestContext

/// Builds the app: a `PostgresClient` for `database` (run by the app as a service), the
/// routes, and the start-up steps chosen by `options`.
///
/// Start-up, in order, before the server accepts requests:
/// 1. with `options.seedOnBoot` — **the bug**: sync the catalog into `notification_types`
///    first. On a fresh database the table does not exist yet; the error is logged and start-up
///    goes on, as real apps do. PostgresTestKit flags it as `write_before_migrations`.
/// 2. with `options.migrate`: run ``NotificationMigrations`` — then, unless the catalog was
///    synced on boot, sync it: **the fix**, reference data written after the migrations.
///
/// - Parameters:
///   - database: where the app's database is (tests pass their own test database).
///   - options: address and start-up behaviour.
///   - logger: the app's logger.
public func buildApplication(
    database: PostgresClient.Configuration,
    options: AppOptions = AppOptions(),
    logger: Logger = Logger(label: "HummingbirdNotifications")
) -> some ApplicationProtocol {
    let client = PostgresClient(configuration: database, backgroundLogger: logger)
    let notificationTypes = NotificationTypeRepository(client: client, logger: logger)
    let customers = CustomerRepository(client: client, logger: logger)
    let router = buildRouter(notificationTypes: notificationTypes, customers: customers)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(options.hostname, port: options.port), serverName: "HummingbirdNotifications"),
        logger: logger
    )
    app.addServices(client)
    if options.seedOnBoot {
        app.beforeServerStarts {
            do {
                try await notificationTypes.sync(options.catalog)
            } catch {
                logger.warning("could not sync the notification catalog at boot: \(String(reflecting: error))")
            }
        }
    }
    if options.migrate {
        app.beforeServerStarts {
            try await NotificationMigrations.migrator.migrate(on: client, logger: logger)
            if !options.seedOnBoot {
                try await notificationTypes.sync(options.catalog)
            }
        }
    }
    return app
}

/// The app's routes: `/notification-types` and `/customers`.
func buildRouter(notificationTypes: NotificationTypeRepository, customers: CustomerRepository) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.addRoutes(NotificationTypeController(repository: notificationTypes).endpoints, atPath: "/notification-types")
    router.addRoutes(CustomerController(repository: customers).endpoints, atPath: "/customers")
    return router
}
