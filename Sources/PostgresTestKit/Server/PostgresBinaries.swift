import Foundation
import Synchronization

/// Where PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`) live, and their version.
///
/// Looked up once per process, in order: `PGTESTKIT_PG_BINDIR`, the newest
/// `/usr/lib/postgresql/*/bin` (Debian, Ubuntu), `pg_config --bindir`, then `PATH`.
package struct PostgresBinaries: Sendable, Hashable {
    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    package let directory: String
    /// The server's major version (`15`).
    package let majorVersion: Int

    /// The path of one program in ``directory``.
    package func path(_ program: String) -> String { directory + "/" + program }

    static let installHint = """
        Install the PostgreSQL server: on Debian/Ubuntu `apt-get install postgresql` \
        (scripts/test does it when run as root), on macOS `brew install postgresql@15`; \
        or set PGTESTKIT_PG_BINDIR to the directory holding initdb and pg_ctl, \
        or point PGTESTKIT_URL / DATABASE_URL at a running server.
        """

    /// Finds the binaries, or throws `.postgresNotInstalled` naming the package to install.
    package static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> PostgresBinaries {
        // The programs do not move while a process runs: look them up (two subprocesses) once.
        let key = (environment["PGTESTKIT_PG_BINDIR"] ?? "") + "\u{1f}" + (environment["PATH"] ?? "")
        if let known = located.withLock({ $0[key] }) { return known }
        let found = try await search(environment: environment)
        located.withLock { $0[key] = found }
        return found
    }

    private static let located = Mutex<[String: PostgresBinaries]>([:])

    private static func search(environment: [String: String]) async throws -> PostgresBinaries {
        if let explicit = environment["PGTESTKIT_PG_BINDIR"], !explicit.isEmpty {
            guard isServerDirectory(explicit) else {
                throw TestKitError(.postgresNotInstalled, "PGTESTKIT_PG_BINDIR=\(explicit) does not contain initdb, pg_ctl and postgres. \(installHint)")
            }
            return try await describe(explicit)
        }
        // Debian's layout first: its pg_config is a script that spends ~75 ms finding the same
        // newest /usr/lib/postgresql/<major>/bin that a directory listing gives at once.
        var candidates = debianDirectories()
        if candidates.isEmpty, let pgConfig = Subprocess.which("pg_config"),
           let output = try? await Subprocess.run(pgConfig, ["--bindir"]), output.succeeded {
            candidates.append(output.output.trimmed)
        }
        if let initdb = Subprocess.which("initdb") {
            let resolved = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
            candidates.append(resolved)
        }
        for candidate in candidates where isServerDirectory(candidate) {
            return try await describe(candidate)
        }
        throw TestKitError(.postgresNotInstalled, "PostgreSQL's server programs (initdb, pg_ctl) were not found. \(installHint)")
    }

    private static func debianDirectories() -> [String] {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap { Int($0) }.sorted(by: >).map { "\(root)/\($0)/bin" }
    }

    private static func isServerDirectory(_ directory: String) -> Bool {
        ["initdb", "pg_ctl", "postgres"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: directory + "/" + $0)
        }
    }

    private static func describe(_ directory: String) async throws -> PostgresBinaries {
        let output = try await Subprocess.run(directory + "/pg_ctl", ["--version"])
        // "pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        let version = output.output.split(separator: ")").dropFirst().first?
            .trimmingCharacters(in: .whitespaces).split(separator: ".").first.flatMap { Int($0) }
        guard output.succeeded, let version else {
            throw TestKitError(.postgresNotInstalled, "\(directory)/pg_ctl --version failed: \(output.output.trimmed). \(installHint)")
        }
        return PostgresBinaries(directory: directory, majorVersion: version)
    }
}
