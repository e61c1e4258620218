/// How the app listens and what it does when it starts.
public struct AppOptions: Sendable {
    /// The address to bind.
    public var hostname: String
    /// The port to bind.
    public var port: Int
    /// Run the migrations when the app starts, then sync the catalog (the fix).
    public var migrate: Bool
    /// Sync the catalog as the first start-up step, before migrating (the bug).
    public var seedOnBoot: Bool
    /// The catalog to mirror into `notification_types`.
    public var catalog: NotificationCatalog

    /// Options; by default the app neither migrates nor seeds on start.
    public init(
        hostname: String = "127.0.0.1", port: Int = 8080, migrate: Bool = false, seedOnBoot: Bool = false,
        catalog: NotificationCatalog = .standard
    ) {
        self.hostname = hostname
        self.port = port
        self.migrate = migrate
        self.seedOnBoot = seedOnBoot
        self.catalog = catalog
    }
}
