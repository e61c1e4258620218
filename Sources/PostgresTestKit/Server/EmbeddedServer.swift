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
/// The data directory lives on a RAM-backed filesystem (`/dev/shm`) when there is one (on
/// macOS, which has none, in `~/.cache`), the server listens on a Unix socket only, with
/// durability turned off (`fsync=off`, ...) on every platform. A lock
/// file serialises start-up: the first process starts the server, the others reuse it. When
/// run as root, the server runs as the unprivileged `postgres` user (or a `pgtestkit` user the
/// toolkit creates), because PostgreSQL refuses to run as root.
///
/// The socket authenticates by `trust`, so its directory is the boundary: every directory is
/// created 0700, and an existing one is used only when it is this user's (or the server
/// user's), has no group or other permission bits and is not a symlink. With `PGTESTKIT_TCP=1`
/// a separate server also listens on 127.0.0.1, on a free port, with `scram-sha-256`
/// authentication and a random password kept in a 0600 file of its directory.
package struct EmbeddedServer: Sendable {
    /// The server programs used.
    package let binaries: PostgresBinaries
    /// The directory holding the data directory, the socket, the log and the lock file.
    package let baseDirectory: String
    /// The directory holding the Unix socket.
    package let socketDirectory: String
    /// The operating-system user the server runs as, when it is not the current user.
    package let serverUser: String?
    /// Whether the server also listens on 127.0.0.1 (with a password), for apps that only take
    /// a host and a port.
    package let tcp: Bool
    /// Why the socket is not in ``baseDirectory``, when it is not (``SocketDirectoryChoice``).
    let socketNotice: String?

    /// The port: 5432 for a socket-only server (it only names the socket file); for a TCP
    /// server, the free port chosen when it was initialised.
    package var port: Int {
        guard tcp else { return 5432 }
        return (try? readFile(portFile)).flatMap { Int($0.trimmed) } ?? Self.preferredTCPPort
    }
    /// The superuser's password (TCP servers only), from the 0600 file in the server's directory.
    package var password: String? {
        tcp ? (try? readFile(passwordFileForClient)).map(\.trimmed) : nil
    }
    /// A `.pgpass` file for the TCP server, for libpq clients (`PGPASSFILE`).
    package var passwordFile: String { baseDirectory + "/pgpass" }
    private var portFile: String { baseDirectory + "/port" }
    private var lockFile: String { baseDirectory + "/server.lock" }
    /// Where a TCP server's port search starts: one port per user, so that two users rarely meet.
    static var preferredTCPPort: Int { 20_000 + Int(getuid() % 20_000) }

    /// The data directory (`PGDATA`).
    package var dataDirectory: String { baseDirectory + "/data" }
    /// The directory of the server's JSON log (`log_statement = mod`), read by the auditor.
    package var logDirectory: String { baseDirectory + "/log" }
    /// The JSON log file the auditor reads.
    package var logFile: String { logDirectory + "/server.json" }
    /// The database superuser the toolkit connects as.
    package static let superuser = "postgres"

    /// The connection string of the server's maintenance database: the socket, or for a TCP
    /// server 127.0.0.1 with its password, so that every client the toolkit hands out uses TCP.
    package var connectionString: ConnectionString {
        guard tcp, let password else {
            return .keywordForm(["host": socketDirectory, "port": String(port), "user": Self.superuser, "dbname": "postgres"])
        }
        return .keywordForm(["host": "127.0.0.1", "port": String(port), "user": Self.superuser, "password": password,
                             "dbname": "postgres", "sslmode": "disable"])
    }

    /// Chooses directories and the server user for this machine; starts nothing.
    ///
    /// `PGTESTKIT_DATA_DIR` overrides the base directory; `PGTESTKIT_TCP=1` picks the TCP
    /// server (a directory of its own, so a socket-only server is never restarted under its users).
    package static func locate(settings: ToolkitSettings = .process) async throws -> EmbeddedServer {
        let binaries = try await PostgresBinaries.locate(settings: settings)
        let uid = getuid()
        let tcp = settings.tcp
        let suffix = tcp ? "-tcp" : ""
        let base: String
        if let explicit = settings.dataDirectory {
            base = explicit
        } else if FileManager.default.isWritableFile(atPath: "/dev/shm") {
            base = "/dev/shm/pgtestkit-\(uid)-pg\(binaries.majorVersion)\(suffix)"
        } else {
            let cache = settings.cacheDirectory ?? ((settings.home ?? NSHomeDirectory()) + "/.cache")
            base = "\(cache)/pgtestkit/pg\(binaries.majorVersion)\(suffix)"
        }
        // A Unix socket path may hold at most 107 bytes (103 on Darwin).
        let socket = SocketDirectoryChoice(base: base, server: "pg\(binaries.majorVersion)\(suffix)", uid: uid)
        let user: String? = uid == 0 ? settings.serverUser : nil
        return EmbeddedServer(
            binaries: binaries, baseDirectory: base, socketDirectory: socket.directory,
            serverUser: user, tcp: tcp, socketNotice: socket.notice)
    }

    /// Whether the server answers on its socket right now.
    package func isRunning() async -> Bool {
        guard (try? checkDirectory(baseDirectory)) == true else { return false }
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return false }
        // Fast path, no subprocess: a live postmaster and its socket.
        if livePostmasterPID() != nil, FileManager.default.fileExists(atPath: socketDirectory + "/.s.PGSQL.\(port)") { return true }
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
    package func start(logger: Logger = Logger(label: "PostgresTestKit")) async throws -> ConnectionString {
        try createDirectory(baseDirectory)
        if socketDirectory != baseDirectory { try createDirectory(socketDirectory) }
        let lock = FileLock(path: lockFile)
        try await lock.withLock {
            if try await initialiseIfNeeded(logger: logger) == false, await isRunning() {
                logger.debug("embedded server already running", metadata: ["socket": "\(socketDirectory)"])
                return
            }
            do {
                try await launch(logger: logger)
            } catch let error as TestKitError where FileManager.default.fileExists(atPath: markerFile) {
                // A live postmaster (pg_ctl status can fail spuriously) keeps its data.
                if let pid = livePostmasterPID() {
                    throw TestKitError(.serverStartFailed, "the embedded server in \(dataDirectory) did not answer, but its postmaster (pid \(pid)) is alive, so its data is left alone: \(error.message). Stop it (pgtestkit server stop, or kill \(pid)) and run again.")
                }
                logger.warning("embedded server did not start; re-creating its data directory \(dataDirectory): \(error.message)")
                try? FileManager.default.removeItem(atPath: dataDirectory)
                _ = try await initialiseIfNeeded(logger: logger)
                try await launch(logger: logger)
            }
        }
        return connectionString
    }

    /// How ``stop(mode:)`` shuts the server down (`pg_ctl -m`).
    package enum StopMode: String, Sendable {
        /// Disconnect clients, then shut down cleanly.
        case fast
        /// Abort at once, like a crash (recovery runs at the next start).
        case immediate
    }

    /// Stops the server if it is running (fast shutdown unless told otherwise).
    package func stop(mode: StopMode = .fast) async throws {
        guard try checkDirectory(baseDirectory) else { return }
        let lock = FileLock(path: lockFile)
        try await lock.withLock {
            guard await isRunning() else { return }
            let output = try await runAsServerUser(binaries.path("pg_ctl"), ["stop", "-D", dataDirectory, "-m", mode.rawValue, "-w", "-t", "60"])
            guard output.succeeded else {
                throw TestKitError(.subprocessFailed, "pg_ctl stop failed: \(output.output.trimmed)")
            }
        }
    }

    /// The server the process's settings name, with `overrides` laid over its environment
    /// (tests and tools that run a server of their own).
    package static func locate(environment overrides: [String: String]) async throws -> EmbeddedServer {
        try await locate(settings: ToolkitSettings(environment: ToolkitSettings.process.environment.merging(overrides) { $1 }))
    }

    /// Keeps the statement log bounded: when it has grown past `limit` bytes
    /// (`PGTESTKIT_LOG_LIMIT_MB`, default 64), it becomes `server.json.1` (replacing the
    /// previous one) and the server starts a new file (`pg_rotate_logfile()`). Readers follow
    /// (``ServerLogReader``). Returns whether it rotated.
    @discardableResult
    package func rotateLogIfLarge(using connection: Connection, limit: UInt64? = nil) async throws -> Bool {
        let environmentLimit = ToolkitSettings.process.logLimitBytes
        let limit = limit ?? environmentLimit ?? 64 << 20
        func size() -> UInt64 { (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? UInt64) ?? 0 }
        guard size() > limit else { return false }
        return try await FileLock(path: lockFile).withLock {
            guard size() > limit else { return false }   // another process rotated it meanwhile
            guard rename(logFile, ServerLogReader.rotatedPath(of: logFile)) == 0 else {
                throw TestKitError(.serverStartFailed, "cannot rotate the statement log \(logFile): \(String(cString: strerror(errno)))")
            }
            try await connection.execute("SELECT pg_rotate_logfile()")
            // The logging collector opens the new file asynchronously; wait for it (bounded).
            _ = try await Deadline.poll(for: .seconds(2), until: { $0 }) { FileManager.default.fileExists(atPath: logFile) }
            return true
        }
    }

    /// The pid in `postmaster.pid` when that process is alive.
    private func livePostmasterPID() -> Int32? {
        guard let text = try? readFile(dataDirectory + "/postmaster.pid"),
              let pid = text.split(separator: "\n").first.flatMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }), pid > 0 else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        // A recycled pid is not a postmaster (where /proc says what a process is).
        if let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), !name.hasPrefix("postgres") { return nil }
        return pid
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
        if let socketNotice { logger.notice("\(socketNotice)") }
        var arguments = ["-D", dataDirectory, "-U", Self.superuser, "--encoding=UTF8", "--locale=C", "--no-sync"]
        let initdbPasswordFile = baseDirectory + "/initdb-password"
        if tcp {
            // The password reaches initdb in a file (never a command line or the statement log).
            let password = try Self.randomPassword()
            try writeNoFollow(password + "\n", to: passwordFileForClient, mode: 0o600)
            try writeNoFollow(password + "\n", to: initdbPasswordFile, mode: 0o600, owner: serverUser)
            arguments += ["--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(initdbPasswordFile)"]
        } else {
            arguments += ["--auth=trust"]
        }
        let output = try await runAsServerUser(binaries.path("initdb"), arguments)
        unlink(initdbPasswordFile)
        guard output.succeeded else {
            throw TestKitError(.serverStartFailed, "initdb failed in \(dataDirectory): \(output.output.trimmed)")
        }
        // Durability off on every platform, not only where the data is on /dev/shm's RAM disk:
        // macOS has none, so its data directory is on disk (~/.cache), where these matter most.
        let settings = """
            # Written by PostgresTestKit: a throwaway server for tests. Never use for real data.
            listen_addresses = '\(tcp ? "127.0.0.1" : "")'
            unix_socket_directories = '\(socketDirectory)'
            port = \(try choosePort())
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
            max_wal_size = 96MB
            min_wal_size = 32MB
            max_prepared_transactions = 16
            max_slot_wal_keep_size = 1GB
            wal_keep_size = 1GB

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
        let log = open(logFile, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)
        if log >= 0 { close(log) }
        // Data directories made by an older toolkit get the settings added since.
        if var settings = try? readFile(markerFile) {
            let added = ["log_timezone = 'UTC'", "max_wal_size = 96MB", "min_wal_size = 32MB", "max_prepared_transactions = 16", "max_slot_wal_keep_size = 1GB", "wal_keep_size = 1GB"]
                .filter { setting in   // by key, at a line's start: wal_keep_size is in max_slot_wal_keep_size
                    let key = setting.prefix(while: { $0 != " " })
                    return !settings.split(separator: "\n").contains { $0.prefix(while: { $0 != " " && $0 != "=" }) == key }
                }
            // WAL kept for verdicts and adoption: 256 MB was read past in parallel suites whose
            // clones are made with WAL_LOG (each writes its template into the WAL).
            let raised = settings.replacingOccurrences(of: "\nwal_keep_size = 256MB\n", with: "\nwal_keep_size = 1GB\n")
            if !added.isEmpty || raised != settings {
                settings = raised + added.joined(separator: "\n") + (added.isEmpty ? "" : "\n")
                try? write(settings, to: markerFile)
            }
        }
        // A data directory made when the socket's directory was chosen otherwise (an older
        // toolkit's shorter limit, or its unhashed fallback) listens where clients now look.
        if let settings = try? readFile(markerFile) {
            let line = "unix_socket_directories = '\(socketDirectory)'"
            let moved = settings.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("unix_socket_directories = ") ? line : String($0) }.joined(separator: "\n")
            if moved != settings { try write(moved, to: markerFile) }
        }
        // A TCP server whose port was taken while it was stopped moves to a free one.
        if tcp, !Self.isFree(port), let settings = try? readFile(markerFile) {
            let newPort = try choosePort()
            let moved = settings.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("port = ") ? "port = \(newPort)" : String($0) }.joined(separator: "\n")
            try write(moved, to: markerFile)
        }
        if tcp, let password {
            try writeNoFollow("127.0.0.1:\(port):*:\(Self.superuser):\(password)\n", to: passwordFile, mode: 0o600)
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

    /// Creates a directory 0700, or checks an existing one (see ``checkDirectory(_:)``).
    private func createDirectory(_ path: String) throws {
        if try checkDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: parent) {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if mkdir(path, 0o700) != 0 {
            guard errno == EEXIST, try checkDirectory(path) else {
                throw TestKitError(.serverStartFailed, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            return   // another process made it first; it passed the check
        }
        chmod(path, 0o700)   // whatever the umask
        if let user = serverUser, getpwnam(user) != nil { try chown(path, to: user) }
    }

    /// Whether `path` exists as a directory that is safely this user's: not a symlink, owned by
    /// the current user (or the server user the toolkit runs PostgreSQL as), and with no group
    /// or other permission bits. Throws ``TestKitError/Code/unsafeDirectory`` when it exists
    /// but is not; returns `false` when it does not exist.
    package func checkDirectory(_ path: String) throws -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return false }
            throw TestKitError(.unsafeDirectory, "cannot inspect \(path): \(String(cString: strerror(errno)))")
        }
        let remedy = "Remove it (or point PGTESTKIT_DATA_DIR at a directory of your own) and run again; the toolkit then creates it with mode 0700."
        if (info.st_mode & S_IFMT) == S_IFLNK {
            throw TestKitError(.unsafeDirectory, "\(path) is a symlink; the embedded server never follows one (its socket authenticates by trust). \(remedy)")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw TestKitError(.unsafeDirectory, "\(path) exists and is not a directory. \(remedy)")
        }
        let allowed = Set([getuid()] + [serverUser.flatMap { getpwnam($0)?.pointee.pw_uid }].compactMap { $0 })
        guard allowed.contains(info.st_uid) else {
            let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
            throw TestKitError(.unsafeDirectory, "\(path) belongs to \(owner), not to you: whoever owns it could reach the server's socket, which authenticates by trust, as its superuser. \(remedy)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw TestKitError(.unsafeDirectory, "\(path) has mode \(String(info.st_mode & 0o777, radix: 8)): other users could reach the server's socket, which authenticates by trust. Run chmod 700 '\(path)', or remove it, and run again.")
        }
        return true
    }

    /// The client's copy of a TCP server's password (0600, the current user's).
    private var passwordFileForClient: String { baseDirectory + "/password" }

    private func readFile(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Writes a file without following a symlink at its path, with the given mode and owner.
    private func writeNoFollow(_ text: String, to path: String, mode: mode_t, owner: String? = nil) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw TestKitError(.serverStartFailed, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        guard systemWrite(fd, bytes, bytes.count) == bytes.count else {
            throw TestKitError(.serverStartFailed, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        if let owner, let entry = getpwnam(owner) { fchown(fd, entry.pointee.pw_uid, entry.pointee.pw_gid) }
    }

    /// Picks the port for a TCP server: the user's preferred one if free, else the next free
    /// one; records it for ``port``. Socket-only servers keep 5432.
    private func choosePort() throws -> Int {
        guard tcp else { return 5432 }
        let chosen = (0..<2000).lazy.map { Self.preferredTCPPort + $0 }.first(where: Self.isFree) ?? Self.preferredTCPPort
        try writeNoFollow("\(chosen)\n", to: portFile, mode: 0o600)
        return chosen
    }

    /// Whether nothing listens on 127.0.0.1:`port`.
    static func isFree(_ port: Int) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// 32 random URL-safe characters from the system's random source.
    static func randomPassword() throws -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet.randomElement(using: &generator)! })
    }

    private func chown(_ path: String, to user: String) throws {
        guard let entry = getpwnam(user) else { return }
        guard systemChown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw TestKitError(.serverStartFailed, "cannot give \(path) to the user '\(user)': \(String(cString: strerror(errno)))")
        }
    }

    private func write(_ text: String, to path: String) throws {
        try writeNoFollow(text, to: path, mode: 0o600, owner: serverUser)
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

private func systemWrite(_ fd: Int32, _ bytes: [UInt8], _ count: Int) -> Int {
    write(fd, bytes, count)
}
