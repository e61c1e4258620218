import Foundation

/// The search for PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`): the places
/// looked in, in order, and the first that holds all three. It reads the environment it is
/// given and the files under ``root`` only, and runs no program itself (`pg_config` is run by
/// the caller, when asked), so tests lay out a fake Homebrew or Postgres.app tree and check
/// the choice.
package struct PostgresBinarySearch: Sendable {
    /// The operating system whose install command the "not found" error gives.
    package enum System: Sendable, Hashable, CaseIterable {
        /// macOS: Homebrew's `postgresql@17`, or Postgres.app.
        case macOS
        /// Linux: the `postgresql` package of Debian and Ubuntu.
        case linux

        /// The system this process runs on.
        package static var current: System {
            // The install command is the only difference: Homebrew on macOS, apt elsewhere.
            // Both messages are unit-tested on Linux through `notFoundError(on:)`.
            #if os(macOS)
            return .macOS
            #else
            return .linux
            #endif
        }
    }

    /// `PGTESTKIT_PG_BINDIR`, when set.
    package let binDirectory: String?
    /// `PATH`, where `pg_config` and `initdb` are looked for.
    package let searchPath: String
    /// The prefix every place is looked up under: `/` normally, a temporary directory in tests.
    package let root: String

    /// A search with `settings`' `PGTESTKIT_PG_BINDIR` and `PATH`, under `root`.
    package init(settings: ToolkitSettings, root: String = "/") {
        self.binDirectory = settings.binDirectory
        self.searchPath = settings.path
        self.root = root
    }

    /// A search with the settings `environment` gives (the unit tests' fake trees).
    package init(environment: [String: String], root: String = "/") {
        self.init(settings: ToolkitSettings(environment: environment), root: root)
    }

    /// The programs a directory must hold, each executable.
    static let programs = ["initdb", "pg_ctl", "postgres"]

    /// Homebrew's prefixes: Apple silicon's first, then Intel's.
    static let homebrewPrefixes = ["/opt/homebrew", "/usr/local"]
    /// Where Postgres.app keeps its versions (`latest` and one directory per version).
    static let postgresAppVersions = "/Applications/Postgres.app/Contents/Versions"
    /// Where Debian and Ubuntu keep one directory per major version.
    static let debianVersions = "/usr/lib/postgresql"

    /// The chosen directory: `PGTESTKIT_PG_BINDIR` when set (an error when it lacks a program),
    /// else the first of ``installedDirectories()`` that holds the programs, else what
    /// `pg_config --bindir` says (`pgConfigBindir` runs the `pg_config` found on `PATH`, only
    /// then), else the directory of `initdb` on `PATH`; `nil` when none holds them.
    package func choose(pgConfigBindir: (String) async -> String?) async throws -> String? {
        if let explicit = binDirectory {
            guard isServerDirectory(explicit) else {
                throw TestKitError(.postgresNotInstalled, "PGTESTKIT_PG_BINDIR=\(explicit) does not contain initdb, pg_ctl and postgres. \(Self.installHint(on: .current))")
            }
            return explicit
        }
        // The installers' layouts before pg_config: Debian's pg_config is a script that spends
        // ~75 ms finding the same newest /usr/lib/postgresql/<major>/bin that a listing gives.
        if let installed = installedDirectories().first(where: isServerDirectory) { return installed }
        if let pgConfig = onPath("pg_config"), let bindir = await pgConfigBindir(pgConfig), isServerDirectory(bindir) {
            return bindir
        }
        if let initdb = onPath("initdb") {
            let resolved = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
            if isServerDirectory(resolved) { return resolved }
        }
        return nil
    }

    /// The directories installers put the programs in, in order: Homebrew's kegs
    /// (`<prefix>/opt/postgresql@<major>/bin`, newest major first, `/opt/homebrew` before
    /// `/usr/local`), Postgres.app (`latest`, then the newest version), then Debian's newest
    /// `/usr/lib/postgresql/<major>/bin`. Only directories that exist; each under ``root``.
    package func installedDirectories() -> [String] {
        let kegs = Self.homebrewPrefixes.enumerated().flatMap { order, prefix in
            entries(prefix + "/opt").compactMap { name -> (major: Int, order: Int, path: String)? in
                guard name.hasPrefix("postgresql@"), let major = Int(name.dropFirst("postgresql@".count)) else { return nil }
                return (major, order, path(prefix + "/opt/" + name + "/bin"))
            }
        }
        .sorted { ($0.major, -$0.order) > ($1.major, -$1.order) }
        .map(\.path)
        let appVersions = entries(Self.postgresAppVersions)
        let app = (appVersions.contains("latest") ? ["latest"] : [])
            + appVersions.compactMap { name -> (version: [Int], name: String)? in
                let parts = name.split(separator: ".").map { Int($0) }
                guard !parts.isEmpty, !parts.contains(nil) else { return nil }
                return (parts.compactMap { $0 }, name)
            }
            .sorted { $1.version.lexicographicallyPrecedes($0.version) }
            .map(\.name)
        let debian = entries(Self.debianVersions).compactMap { Int($0) }.sorted(by: >)
        return kegs
            + app.map { path(Self.postgresAppVersions + "/" + $0 + "/bin") }
            + debian.map { path(Self.debianVersions + "/\($0)/bin") }
    }

    /// Whether `directory` holds `initdb`, `pg_ctl` and `postgres`, each executable.
    package func isServerDirectory(_ directory: String) -> Bool {
        Self.programs.allSatisfy { FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }
    }

    /// The error when nothing was found: the places searched and how to install PostgreSQL on
    /// `system` (``System/current`` in the library; both in the unit tests).
    package func notFoundError(on system: System) -> TestKitError {
        let path = searchPath
        let places = [
            "PGTESTKIT_PG_BINDIR (not set)",
            Self.homebrewPrefixes.map { $0 + "/opt/postgresql@*/bin" }.joined(separator: " and ") + " (Homebrew)",
            Self.postgresAppVersions + "/{latest,*}/bin (Postgres.app)",
            Self.debianVersions + "/*/bin (Debian, Ubuntu)",
            "pg_config --bindir",
            "initdb on PATH (\(path))",
        ]
        return TestKitError(.postgresNotInstalled, "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found. Looked in: \(places.joined(separator: "; ")). \(Self.installHint(on: system))")
    }

    /// The command that installs the server programs on `system`.
    package static func installCommand(on system: System) -> String {
        switch system {
        case .macOS: "brew install postgresql@17"
        case .linux: "apt-get install postgresql"
        }
    }

    /// What to do when the programs are missing, on `system`: the install command, and the
    /// other ways to give the toolkit a server.
    package static func installHint(on system: System) -> String {
        let install = switch system {
        case .macOS: "Install the PostgreSQL server: `\(installCommand(on: .macOS))` (Homebrew; its keg is found where it is), or Postgres.app"
        case .linux: "Install the PostgreSQL server: `\(installCommand(on: .linux))` on Debian/Ubuntu (scripts/test does it when run as root)"
        }
        return install + "; or set PGTESTKIT_PG_BINDIR to the directory holding initdb and pg_ctl, or point PGTESTKIT_URL / DATABASE_URL at a running server."
    }

    /// The first executable `name` in the environment's `PATH`, under ``root``.
    func onPath(_ name: String) -> String? {
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = path(String(directory) + "/" + name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// `absolute` under ``root``.
    func path(_ absolute: String) -> String {
        root == "/" ? absolute : (root.hasSuffix("/") ? String(root.dropLast()) : root) + absolute
    }

    /// The names in the directory `absolute` (under ``root``); none when it does not exist.
    private func entries(_ absolute: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path(absolute))) ?? []
    }
}
