/// Why test databases cost much more on this server than on the embedded one — `fsync` on,
/// commits waiting for the disk, a server across the network — said once per run (at info
/// level, and in the summary) with what to do. Nothing is said on the embedded server.
package struct SlowServerNote: Sendable, Codable, Equatable {
    /// What makes it slow, in words (`fsync is on`, ...).
    package var reasons: [String]

    /// The note for a server with these `settings` (`fsync`, `synchronous_commit`,
    /// `full_page_writes`, as `SHOW` prints them) reached at `host` (libpq's, resolved);
    /// `nil` when it is the embedded server or nothing makes it slow.
    package static func judge(settings: [String: String], host: String, embedded: Bool) -> SlowServerNote? {
        guard !embedded else { return nil }
        var reasons: [String] = []
        if settings["fsync"] == "on" {
            reasons.append("fsync is on (every CREATE DATABASE and DROP waits for the disk)")
            if settings["synchronous_commit"] == "on" { reasons.append("synchronous_commit is on") }
            if settings["full_page_writes"] == "on" { reasons.append("full_page_writes is on") }
        }
        let local = host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") || host == "localhost" || host.hasPrefix("127.") || host == "::1"
        if !local { reasons.append("the server is at \(host), across the network (every statement is a round trip)") }
        return reasons.isEmpty ? nil : SlowServerNote(reasons: reasons)
    }

    /// The note in words, with the cost measured in this run (the mean `CREATE DATABASE` of
    /// a clone made on demand), when there was one.
    package func message(meanCreateMilliseconds: Double?) -> String {
        let cost = meanCreateMilliseconds.map { String(format: "A test database took %.0f ms to create here, against 20–40 ms on the embedded server. ", $0) } ?? ""
        return "test databases are slow on this server: \(reasons.joined(separator: "; ")). \(cost)"
            + "For tests, run the server with -c fsync=off -c full_page_writes=off -c synchronous_commit=off on tmpfs "
            + "(a container: --tmpfs /var/lib/postgresql/data), or leave DATABASE_URL and PGTESTKIT_URL unset so that the embedded server is used."
    }
}
