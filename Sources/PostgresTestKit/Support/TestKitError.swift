/// An error raised by the toolkit itself (server, admin, lifecycle, audit), with the cause.
///
/// ``code`` is stable across releases and safe to switch on; ``message`` is for people and
/// says what went wrong and what to do. Messages never contain a password.
public struct TestKitError: Error, Sendable, CustomStringConvertible {
    /// A stable classification of a ``TestKitError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case postgresNotInstalled, serverStartFailed, maintenanceDatabaseUnreachable
            case invalidName, notOwned, migrationFailed, seedFailed, hookFailed
            case illegalPhaseTransition, lifecycleViolation, configuration, hostNotAllowed
            case timeout, subprocessFailed, unsafeDirectory
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// PostgreSQL's server binaries were not found; the message names the package.
        public static let postgresNotInstalled = Code(.postgresNotInstalled)
        /// The embedded server could not be initialised or started.
        public static let serverStartFailed = Code(.serverStartFailed)
        /// Neither `postgres` nor `template1` accepted the admin connection.
        public static let maintenanceDatabaseUnreachable = Code(.maintenanceDatabaseUnreachable)
        /// A database name, prefix or test name was rejected.
        public static let invalidName = Code(.invalidName)
        /// The toolkit refused to touch a database that carries no owner marker of its own.
        public static let notOwned = Code(.notOwned)
        /// A migration failed; the message names the file, line and SQLSTATE.
        public static let migrationFailed = Code(.migrationFailed)
        /// A seeder failed.
        public static let seedFailed = Code(.seedFailed)
        /// A connect hook failed for a reason other than a flagged write.
        public static let hookFailed = Code(.hookFailed)
        /// A lifecycle step was asked for in the wrong phase.
        public static let illegalPhaseTransition = Code(.illegalPhaseTransition)
        /// A premature write or other lifecycle violation under the `.fail` policy.
        public static let lifecycleViolation = Code(.lifecycleViolation)
        /// The configuration (environment or code) is invalid.
        public static let configuration = Code(.configuration)
        /// The server's host is not on the allow-list.
        public static let hostNotAllowed = Code(.hostNotAllowed)
        /// A bounded wait ran out.
        public static let timeout = Code(.timeout)
        /// A helper process (initdb, pg_ctl, a user command) failed.
        public static let subprocessFailed = Code(.subprocessFailed)
        /// A directory the embedded server would use is not safely this user's (owner, mode,
        /// symlink); the message says which and what to do.
        public static let unsafeDirectory = Code(.unsafeDirectory)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong and what to do about it.
    public var message: String
    /// The underlying error, if any (often a ``PGError``).
    public var underlying: (any Error)?

    /// Creates an error with a code, a message for people, and an optional cause.
    package init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        var text = "TestKitError.\(code): \(message)"
        if let underlying { text += "\nCaused by: \(underlying)" }
        return text
    }
}
