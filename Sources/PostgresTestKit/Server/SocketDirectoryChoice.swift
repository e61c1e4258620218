/// Where the embedded server's Unix socket goes: in its base directory when the socket's path
/// fits the platform's limit, else in a short directory of the user's own,
/// `/tmp/pgtestkit-<uid>-<server>-<hash of the base>`, which the server creates 0700 and checks
/// like its others (this user's, no group or other bits, not a symlink). Decided before
/// `initdb`, which writes the directory into the server's settings.
package struct SocketDirectoryChoice: Sendable, Hashable {
    /// The longest socket path the platform takes, in bytes: `sockaddr_un.sun_path` less its
    /// terminating zero (PostgreSQL refuses a longer one).
    package static var platformLimit: Int {
        // Darwin's sun_path holds 104 bytes, Linux's 108. The unit tests compare this with
        // the sockaddr_un of the platform they run on, and use both limits.
        #if canImport(Darwin)
        return 103
        #else
        return 107
        #endif
    }

    /// The socket's file name at its longest: a TCP server's port has up to five digits.
    static let longestSocketName = ".s.PGSQL.65535"

    /// The directory the socket is in.
    package let directory: String
    /// Why the socket is not in the base directory, when it is not: the toolkit says so when
    /// it initialises the server.
    package let notice: String?

    /// The choice for a server whose base directory is `base`, named `server` (`pg17`,
    /// `pg17-tcp`) and run by `uid`, on a platform whose socket paths hold at most `limit`
    /// bytes; the short directory is made in `shortParent`.
    package init(base: String, server: String, uid: UInt32, limit: Int = Self.platformLimit, shortParent: String = "/tmp") {
        let length = (base + "/" + Self.longestSocketName).utf8.count
        guard length > limit else {
            directory = base
            notice = nil
            return
        }
        // Two servers with long base directories (PGTESTKIT_DATA_DIR) must not share a socket.
        directory = "\(shortParent)/pgtestkit-\(uid)-\(server)-\(Self.hash(base))"
        notice = "the embedded server's socket path in \(base) would be \(length) bytes long, past this system's limit of \(limit): the socket goes in \(directory) (yours, mode 0700; its data stays in \(base))"
    }

    /// FNV-1a (32 bits) of `text`, in hexadecimal: the same in every process, unlike `Hasher`.
    static func hash(_ text: String) -> String {
        let value = text.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
