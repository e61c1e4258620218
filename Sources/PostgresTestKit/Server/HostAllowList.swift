import Foundation

/// Guards against pointing the toolkit at a production server by mistake.
///
/// By default only Unix sockets and loopback hosts are allowed; `PGTESTKIT_ALLOWED_HOSTS`
/// (comma-separated, `*` for any) adds more.
public struct HostAllowList: Sendable {
    /// Hosts allowed besides sockets and loopback.
    public let extraHosts: [String]

    /// The hosts `PGTESTKIT_ALLOWED_HOSTS` allows.
    public static func fromEnvironment() -> HostAllowList { ToolkitSettings.process.allowedHosts }

    /// The hosts allowed besides sockets and loopback.
    public init(extraHosts: [String]) { self.extraHosts = extraHosts }

    /// Throws `.hostNotAllowed` unless every host in libpq's comma-separated `host` is allowed.
    public func check(_ hosts: String, source: String) throws {
        for host in hosts.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") || host == "localhost"
                || host.hasPrefix("127.") || host == "::1" || extraHosts.contains(host) || extraHosts.contains("*") {
                continue
            }
            throw TestKitError(.hostNotAllowed, "refusing to create and drop test databases on '\(host)' (from \(source)): only local sockets and loopback are allowed by default, to protect real servers. If this server is meant for tests, set PGTESTKIT_ALLOWED_HOSTS=\(host).")
        }
    }
}
