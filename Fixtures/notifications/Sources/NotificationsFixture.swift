import Foundation
import PostgresTestKit

/// The notifications app used by the demo, the tests and the README: its migrations
/// directory and a ready-made manager configuration.
public enum NotificationsFixture {
    /// `Fixtures/notifications/Migrations` in the source tree.
    public static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Migrations")

    /// The repository's `Fixtures` directory (for the other fixtures).
    public static let fixturesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
