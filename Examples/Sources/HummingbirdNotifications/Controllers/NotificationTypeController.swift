import Hummingbird

/// `GET /notification-types`: the active notification types, by name.
struct NotificationTypeController<Context: RequestContext> {
    let repository: NotificationTypeRepository

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get(use: self.list)
    }

    @Sendable
    func list(request: Request, context: Context) async throws -> [NotificationType] {
        try await repository.active()
    }
}
