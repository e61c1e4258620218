import Foundation
import Testing
@testable import PostgresTestKit

/// Where the embedded server's programs are found: fake Homebrew (both prefixes),
/// Postgres.app and Debian trees under a temporary root, and the error when there are none.
@Suite("PostgresBinarySearch")
struct PostgresBinarySearchTests {
    /// A search under `root` with `PATH` and no `PGTESTKIT_PG_BINDIR`; `pg_config` is never asked.
    static func choice(_ root: FakeRoot, path: String = "/usr/bin:/bin") async throws -> String? {
        try await PostgresBinarySearch(environment: ["PATH": path], root: root.path).choose { _ in
            Issue.record("pg_config was asked although an installed directory holds the programs")
            return nil
        }
    }

    @Test func appleSiliconHomebrewKegNewestMajorFirst() async throws {
        let root = try FakeRoot()
        try root.install("/opt/homebrew/opt/postgresql@15/bin")
        try root.install("/opt/homebrew/opt/postgresql@17/bin")
        try root.install("/opt/homebrew/opt/postgresql@16/bin")
        try root.install("/usr/lib/postgresql/18/bin")   // Debian's comes after Homebrew's
        #expect(try await Self.choice(root) == root.at("/opt/homebrew/opt/postgresql@17/bin"))
    }

    @Test func intelHomebrewKeg() async throws {
        let root = try FakeRoot()
        try root.install("/usr/local/opt/postgresql@16/bin")
        #expect(try await Self.choice(root) == root.at("/usr/local/opt/postgresql@16/bin"))
    }

    @Test func bothHomebrewPrefixesNewestMajorFirstThenAppleSiliconFirst() async throws {
        let root = try FakeRoot()
        try root.install("/opt/homebrew/opt/postgresql@16/bin")
        try root.install("/usr/local/opt/postgresql@16/bin")
        try root.install("/usr/local/opt/postgresql@17/bin")
        let search = PostgresBinarySearch(environment: [:], root: root.path)
        #expect(search.installedDirectories() == [
            root.at("/usr/local/opt/postgresql@17/bin"),
            root.at("/opt/homebrew/opt/postgresql@16/bin"),
            root.at("/usr/local/opt/postgresql@16/bin"),
        ])
        #expect(try await Self.choice(root) == root.at("/usr/local/opt/postgresql@17/bin"))
    }

    @Test func aKegWithoutTheServerOrWithoutExecutablesIsPassedOver() async throws {
        let root = try FakeRoot()
        try root.install("/opt/homebrew/opt/postgresql@18/bin", programs: ["initdb", "pg_ctl"])   // no postgres
        try root.install("/opt/homebrew/opt/postgresql@17/bin", executable: false)
        try root.install("/opt/homebrew/opt/postgresql@16/bin")
        try root.install("/opt/homebrew/opt/libpq/bin", programs: ["psql"])   // not a postgresql@ keg
        #expect(try await Self.choice(root) == root.at("/opt/homebrew/opt/postgresql@16/bin"))
    }

    @Test func postgresAppLatestFirst() async throws {
        let root = try FakeRoot()
        try root.install("/Applications/Postgres.app/Contents/Versions/16/bin")
        try root.install("/Applications/Postgres.app/Contents/Versions/17/bin")
        try root.symlink("/Applications/Postgres.app/Contents/Versions/latest", to: "17")
        #expect(try await Self.choice(root) == root.at("/Applications/Postgres.app/Contents/Versions/latest/bin"))
    }

    @Test func postgresAppWithoutLatestTakesTheNewestVersionByNumber() async throws {
        let root = try FakeRoot()
        try root.install("/Applications/Postgres.app/Contents/Versions/9.6/bin")
        try root.install("/Applications/Postgres.app/Contents/Versions/10/bin")
        try root.install("/Applications/Postgres.app/Contents/Versions/14/bin")
        let search = PostgresBinarySearch(environment: [:], root: root.path)
        #expect(search.installedDirectories() == ["14", "10", "9.6"].map { root.at("/Applications/Postgres.app/Contents/Versions/\($0)/bin") })
        #expect(try await Self.choice(root) == root.at("/Applications/Postgres.app/Contents/Versions/14/bin"))
    }

    @Test func homebrewThenPostgresAppThenDebian() async throws {
        let root = try FakeRoot()
        try root.install("/usr/lib/postgresql/15/bin")
        try root.install("/usr/lib/postgresql/16/bin")
        try root.install("/Applications/Postgres.app/Contents/Versions/17/bin")
        try root.install("/usr/local/opt/postgresql@15/bin")
        let search = PostgresBinarySearch(environment: [:], root: root.path)
        #expect(search.installedDirectories() == [
            root.at("/usr/local/opt/postgresql@15/bin"),
            root.at("/Applications/Postgres.app/Contents/Versions/17/bin"),
            root.at("/usr/lib/postgresql/16/bin"),
            root.at("/usr/lib/postgresql/15/bin"),
        ])
    }

    @Test func debianNewestMajorWhenAlone() async throws {
        let root = try FakeRoot()
        try root.install("/usr/lib/postgresql/15/bin")
        try root.install("/usr/lib/postgresql/16/bin")
        #expect(try await Self.choice(root) == root.at("/usr/lib/postgresql/16/bin"))
    }

    @Test func pgConfigIsAskedOnlyWhenNoInstalledDirectoryHoldsThePrograms() async throws {
        let root = try FakeRoot()
        try root.install("/usr/bin", programs: ["pg_config"])
        try root.install("/srv/pg/bin")
        var asked: [String] = []
        let chosen = try await PostgresBinarySearch(environment: ["PATH": "/usr/bin"], root: root.path).choose { pgConfig in
            asked.append(pgConfig)
            return root.at("/srv/pg/bin")
        }
        #expect(asked == [root.at("/usr/bin/pg_config")])
        #expect(chosen == root.at("/srv/pg/bin"))
    }

    @Test func initdbOnThePathIsFollowedToItsDirectory() async throws {
        let root = try FakeRoot()
        // A linked Homebrew formula: /usr/local/bin/initdb -> ../Cellar/postgresql@17/17.2/bin/initdb
        try root.install("/usr/local/Cellar/postgresql@17/17.2/bin")
        for program in ["initdb", "pg_ctl", "postgres"] {
            try root.symlink("/usr/local/bin/\(program)", to: "../Cellar/postgresql@17/17.2/bin/\(program)")
        }
        let chosen = try await Self.choice(root, path: "/usr/bin:/usr/local/bin")
        let resolved = URL(fileURLWithPath: root.at("/usr/local/Cellar/postgresql@17/17.2/bin")).resolvingSymlinksInPath().path
        #expect(chosen == resolved)
    }

    @Test func pgtestkitPGBindirWinsAndAnIncompleteOneIsAnError() async throws {
        let root = try FakeRoot()
        try root.install("/opt/homebrew/opt/postgresql@17/bin")
        try root.install("/custom/bin")
        let explicit = PostgresBinarySearch(environment: ["PGTESTKIT_PG_BINDIR": root.at("/custom/bin")], root: root.path)
        #expect(try await explicit.choose { _ in nil } == root.at("/custom/bin"))
        let incomplete = PostgresBinarySearch(environment: ["PGTESTKIT_PG_BINDIR": root.at("/nowhere")], root: root.path)
        let error = await #expect(throws: TestKitError.self) { try await incomplete.choose { _ in nil } }
        #expect(error?.code == .postgresNotInstalled)
        #expect(error?.message.contains(PostgresBinarySearch.installCommand(on: .current)) == true)
    }

    @Test func nothingFoundNamesThePlacesSearchedAndTheMacInstallCommand() async throws {
        let root = try FakeRoot()
        #expect(try await Self.choice(root) == nil)
        let error = PostgresBinarySearch(environment: ["PATH": "/usr/bin:/bin"], root: root.path).notFoundError(on: .macOS)
        #expect(error.code == .postgresNotInstalled)
        for place in ["PGTESTKIT_PG_BINDIR", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin",
                      "/Applications/Postgres.app/Contents/Versions/", "/usr/lib/postgresql/*/bin", "pg_config --bindir",
                      "initdb on PATH (/usr/bin:/bin)", "`brew install postgresql@17`"] {
            #expect(error.message.contains(place), "missing \(place)")
        }
        #expect(!error.message.contains("apt-get"))
    }

    @Test func nothingFoundOnLinuxGivesTheAptCommand() {
        let error = PostgresBinarySearch(environment: [:], root: "/nonexistent-root").notFoundError(on: .linux)
        #expect(error.message.contains("`apt-get install postgresql`"))
        #expect(error.message.contains("/usr/lib/postgresql/*/bin"))
        #expect(!error.message.contains("brew install"))
    }

    @Test func theSystemIsTheOneTheTestsRunOn() {
        #if os(macOS)
        #expect(PostgresBinarySearch.System.current == .macOS)
        #else
        #expect(PostgresBinarySearch.System.current == .linux)
        #endif
    }
}
