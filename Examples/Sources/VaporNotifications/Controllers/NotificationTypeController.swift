import Fluent
import Vapor

/// `GET /notification-types`: the active notification types, by name.
struct NotificationTypeController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped("notification-types").get(use: self.index)
    }

    @Sendable
    func index(req: Request) async throws -> [NotificationTypeDTO] {
        try await NotificationType.query(on: req.db)
            .filter(\.$isActive == true)
            .sort(\.$name)
            .all()
            .map { $0.toDTO() }
    }
}
