import Vapor

/// Registers the app's routes.
func routes(_ app: Application) throws {
    try app.register(collection: NotificationTypeController())
    try app.register(collection: CustomerController())
}
