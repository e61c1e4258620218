import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL server the toolkit initialises and starts itself, shared by every test
/// process of the same user on the machine.
///
/// The data directory lives on a RAM-backed filesystem (`/dev/shm`) when there is one, the
/// server listens on a Unix socket only, with durability turned off (`fsync=off`, ...). A lock
/// file serialises start-up: the first process starts the server, the others reuse it. When
/// run as root, the server runs as the unprivileged `postgres` user (or a `pgtestkit` user the
/// toolkit creates), because PostgreSQL refuses to run as root.
public struct EmbeddedServer: Sendable {
    /// The server programs used.
    public let binaries: PostgresBinaries
    /// The directory holding the data directory, the socket, the log and the lock file.
    public let baseDirectory: String
    /// The directory holding the Unix socket.
    public let socketDirectory: String
    /// The socket's port number (part of the socket file name).
    public let port: Int
    /// The operating-system user the server runs as, when it is not the current user.
    public let serverUser: String?

    /// The data directory (`PGDATA`).
    public var dataDirectory: String { baseDirectory + "/data" }
    /// The directory of the server's JSON log (`log_statement = mod`), read by the auditor.
    public var logDirectory: String { baseDirectory + "/log" }
    /// The JSON log file the auditor reads.
    public var logFile: String { logDirectory + "/server.json" }
    /// The database superuser the toolkit connects as.
    public static let superuser = "postgres"

    /// The connection string of the server's maintenance database.
    public var connectionString: ConnectionString {
        ConnectionString("host=\(socketDirectory) port=\(port) user=\(Self.superuser) dbname=postgres")
    }

    /// Chooses directories and the server user for this machine; starts nothing.
    ///
    /// `PGTESTKIT_DATA_DIR` overrides the base directory.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> EmbeddedServer {
        let binaries = try await PostgresBinaries.locate(environment: environment)
        let uid = getuid()
        let base: String
        if let explicit = environment["PGTESTKIT_DATA_DIR"], !explicit.isEmpty {
            base = explicit
        } else if FileManager.default.isWritableFile(atPath: "/dev/shm") {
            base = "/dev/shm/pgtestkit-\(uid)-pg\(binaries.majorVersion)"
        } else {
            let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
            base = "\(cache)/pgtestkit/pg\(binaries.majorVersion)"
        }
        let port = 5432
        // A Unix socket path may hold at most 107 bytes.
        var socketDirectory = base
        if (base + "/.s.PGSQL.\(port)").utf8.count > 100 {
            socketDirectory = "/tmp/pgtestkit-\(uid)-pg\(binaries.majorVersion)"
        }
        let user: String? = uid == 0 ? (environment["PGTESTKIT_SERVER_USER"] ?? "postgres") : nil
        return EmbeddedServer(
            binaries: binaries, baseDirectory: base, socketDirectory: socketDirectory,
            port: port, serverUser: user)
    }

    /// Whether the server answers on its socket right now.
    public func isRunning() async -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return false }
        guard let status = try? await runAsServerUser(binaries.path("pg_ctl"), ["status", "-D", dataDirectory]) else {
            return false
        }
        return status.succeeded
    }

    /// Makes sure the server is initialised and running, and returns its connection string.
    ///
    /// Safe to call from many processes at once: they serialise on a lock file, and all but
    /// the first find the server running.
    @discardableResult
    public func start(logger: Logger = Logger(label: "PostgresTestKit")) async throws -> ConnectionString {
        try createDirectory(baseDirectory)
        if socketDirectory != baseDirectory { try createDirectory(socketDirectory) }
        let lock = FileLock(path: baseDirectory + ".lock")
        try await lock.withLock {
            if try await initialiseIfNeeded(logger: logger) == false, await isRunning() {
                logger.debug("embedded server already running", metadata: ["socket": "\(socketDirectory)"])
                return
            }
            do {
                try await launch(logger: logger)
            } catch let error as TestKitError where FileManager.default.fileExists(atPath: markerFile) {
                logger.warning("embedded server did not start; re-creating its data directory \(dataDirectory): \(error.message)")
                try? FileManager.default.removeItem(atPath: dataDirectory)
                _ = try await initialiseIfNeeded(logger: logger)
                try await launch(logger: logger)
            }
        }
        return connectionString
    }

    /// How ``stop(mode:)`` shuts the server down (`pg_ctl -m`).
    public enum StopMode: String, Sendable {
        /// Disconnect clients, then shut down cleanly.
        case fast
        /// Abort at once, like a crash (recovery runs at the next start).
        case immediate
    }

    /// Stops the server if it is running (fast shutdown unless told otherwise).
    public func stop(mode: StopMode = .fast) async throws {
        let lock = FileLock(path: baseDirectory + ".lock")
        try await lock.withLock {
            guard await isRunning() else { return }
            let output = try await runAsServerUser(binaries.path("pg_ctl"), ["stop", "-D", dataDirectory, "-m", mode.rawValue, "-w", "-t", "60"])
            guard output.succeeded else {
                throw TestKitError(.subprocessFailed, "pg_ctl stop failed: \(output.output.trimmed)")
            }
        }
    }

    private var markerFile: String { dataDirectory + "/pgtestkit.conf" }

    /// Runs initdb when the data directory is missing or incomplete; returns whether it did.
    private func initialiseIfNeeded(logger: Logger) async throws -> Bool {
        if FileManager.default.fileExists(atPath: markerFile) { return false }
        if FileManager.default.fileExists(atPath: dataDirectory) {
            logger.warning("the embedded server's data directory \(dataDirectory) is incomplete; re-creating it")
            try FileManager.default.removeItem(atPath: dataDirectory)
        }
        try await prepareServerUser()
        try createDirectory(logDirectory)
        logger.info("initialising the embedded PostgreSQL \(binaries.majorVersion) server in \(dataDirectory)")
        let output = try await runAsServerUser(binaries.path("initdb"), [
            "-D", dataDirectory, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync",
        ])
        guard output.succeeded else {
            throw TestKitError(.serverStartFailed, "initdb failed in \(dataDirectory): \(output.output.trimmed)")
        }
        let settings = """
            # Written by PostgresTestKit: a throwaway server for tests. Never use for real data.
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory)'
            port = \(port)
            max_connections = 300
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            autovacuum = off
            logging_collector = on
            log_destination = 'jsonlog'
            log_directory = '\(logDirectory)'
            log_filename = 'server.log'
            log_file_mode = 0644
            log_rotation_age = 0
            log_rotation_size = 0
            log_statement = 'mod'
            log_connections = on
            log_min_error_statement = error
            log_timezone = 'UTC'

            """
        try write(settings, to: markerFile)
        let conf = dataDirectory + "/postgresql.conf"
        let existing = try String(contentsOfFile: conf, encoding: .utf8)
        try write(existing + "\ninclude 'pgtestkit.conf'\n", to: conf)
        return true
    }

    private func launch(logger: Logger) async throws {
        let started = ContinuousClock.now
        // The statement log lives in RAM: start each server life with an empty one (readers
        // notice the truncation and start over).
        if FileManager.default.fileExists(atPath: logFile) { truncate(logFile, 0) }
        // Data directories made before the toolkit set log_timezone get it now.
        if let settings = try? String(contentsOfFile: markerFile, encoding: .utf8), !settings.contains("log_timezone") {
            try? write(settings + "log_timezone = 'UTC'\n", to: markerFile)
        }
        let output = try await runAsServerUser(binaries.path("pg_ctl"), [
            "start", "-D", dataDirectory, "-l", baseDirectory + "/startup.log", "-w", "-t", "60",
        ])
        guard output.succeeded else {
            let startupLog = (try? String(contentsOfFile: baseDirectory + "/startup.log", encoding: .utf8)) ?? ""
            throw TestKitError(.serverStartFailed, """
                the embedded server did not start (\(dataDirectory)): \(output.output.trimmed)
                \(startupLog.split(separator: "\n").suffix(10).joined(separator: "\n"))
                """)
        }
        logger.info("embedded server started in \(ContinuousClock.now - started)", metadata: ["socket": "\(socketDirectory)"])
    }

    /// When root: make sure the server user exists; create `pgtestkit` when `postgres` is absent.
    private func prepareServerUser() async throws {
        guard let user = serverUser else { return }
        if getpwnam(user) == nil {
            guard let useradd = Subprocess.which("useradd") ?? ["/usr/sbin/useradd"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
                throw TestKitError(.serverStartFailed, "PostgreSQL refuses to run as root and the user '\(user)' does not exist; create it or run the tests as an ordinary user.")
            }
            let output = try await Subprocess.run(useradd, ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
            guard output.succeeded else {
                throw TestKitError(.serverStartFailed, "could not create the user '\(user)' to run PostgreSQL (it refuses to run as root): \(output.output.trimmed)")
            }
        }
        for directory in Set([baseDirectory, socketDirectory]) { try chown(directory, to: user) }
    }

    private func createDirectory(_ path: String) throws {
        if FileManager.default.fileExists(atPath: path) { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let user = serverUser, getpwnam(user) != nil { try chown(path, to: user) }
    }

    private func chown(_ path: String, to user: String) throws {
        guard let entry = getpwnam(user) else { return }
        guard systemChown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw TestKitError(.serverStartFailed, "cannot give \(path) to the user '\(user)': \(String(cString: strerror(errno)))")
        }
    }

    private func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        if let user = serverUser { try chown(path, to: user) }
    }

    private func runAsServerUser(_ program: String, _ arguments: [String]) async throws -> Subprocess.Output {
        guard let user = serverUser else { return try await Subprocess.run(program, arguments) }
        guard let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestKitError(.serverStartFailed, "running as root needs runuser (util-linux) to start PostgreSQL as '\(user)'; run the tests as an ordinary user instead.")
        }
        return try await Subprocess.run(runuser, ["-u", user, "--", program] + arguments)
    }
}

private func systemChown(_ path: String, _ uid: uid_t, _ gid: gid_t) -> Int32 {
    chown(path, uid, gid)
}
