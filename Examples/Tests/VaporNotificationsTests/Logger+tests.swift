import Logging

extension Logger {
    /// The apps' logger in tests: warnings and errors only.
    static let tests: Logger = {
        var logger = Logger(label: "VaporNotificationsTests")
        logger.logLevel = .warning
        return logger
    }()
}
