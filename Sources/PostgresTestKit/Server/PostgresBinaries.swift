import Foundation
import Synchronization

/// Where PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`) live, and their version.
///
/// Looked up once per process, in order: `PGTESTKIT_PG_BINDIR`, Homebrew's kegs
/// (`/opt/homebrew/opt/postgresql@<major>/bin`, then `/usr/local/opt/…`, newest first),
/// Postgres.app, the newest `/usr/lib/postgresql/*/bin` (Debian, Ubuntu), `pg_config --bindir`,
/// then `PATH` (``PostgresBinarySearch``).
package struct PostgresBinaries: Sendable, Hashable {
    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    package let directory: String
    /// The server's major version (`15`).
    package let majorVersion: Int

    /// The path of one program in ``directory``.
    package func path(_ program: String) -> String { directory + "/" + program }

    /// Finds the binaries, or throws `.postgresNotInstalled` naming the package to install.
    package static func locate(settings: ToolkitSettings = .process) async throws -> PostgresBinaries {
        // The programs do not move while a process runs: look them up (two subprocesses) once.
        let key = (settings.binDirectory ?? "") + "\u{1f}" + settings.path
        if let known = located.withLock({ $0[key] }) { return known }
        let found = try await search(settings: settings)
        located.withLock { $0[key] = found }
        return found
    }

    private static let located = Mutex<[String: PostgresBinaries]>([:])

    private static func search(settings: ToolkitSettings) async throws -> PostgresBinaries {
        let search = PostgresBinarySearch(settings: settings)
        let directory = try await search.choose { pgConfig in
            guard let output = try? await Subprocess.run(pgConfig, ["--bindir"]), output.succeeded else { return nil }
            return output.output.trimmed
        }
        guard let directory else { throw search.notFoundError(on: .current) }
        return try await describe(directory)
    }

    private static func describe(_ directory: String) async throws -> PostgresBinaries {
        let output = try await Subprocess.run(directory + "/pg_ctl", ["--version"])
        // "pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        let version = output.output.split(separator: ")").dropFirst().first?
            .trimmingCharacters(in: .whitespaces).split(separator: ".").first.flatMap { Int($0) }
        guard output.succeeded, let version else {
            throw TestKitError(.postgresNotInstalled, "\(directory)/pg_ctl --version failed: \(output.output.trimmed). \(PostgresBinarySearch.installHint(on: .current))")
        }
        return PostgresBinaries(directory: directory, majorVersion: version)
    }
}
