import Logging

extension Logger {
    /// The app's logger in tests: warnings and errors only.
    static let tests: Logger = {
        var logger = Logger(label: "HummingbirdNotificationsTests")
        logger.logLevel = .warning
        return logger
    }()
}
