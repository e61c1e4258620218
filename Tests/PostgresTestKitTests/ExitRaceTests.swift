import Foundation
import Testing
@testable import PostgresTestKit

/// A test process that exits while a released clone is being judged (renamed, read from the
/// WAL, reset, reconnected) or dropped must leave nothing of its own on the server but the
/// ready clones it leaves on purpose (the warm pool, marked so): the exit's cleanup waits for a
/// rename on the wire, and none starts once the process is exiting.
/// Found as a recycled clone (`uses: 1`) that outlived its process, one `scripts/test` in three.
@Suite("Exit while a verdict is under way", .serialized)
struct ExitRaceTests {
    @Test("A process that exits right after its last release leaves nothing behind but its ready clones, many times over")
    func exitDuringVerdictLeavesNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: AuditCommandTests.executable), "build the pgtestkit product first")
        let prefix = TestSupport.uniquePrefix("race")
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_AUDIT"] = "warn"
        let admin = try await TestSupport.admin()
        var leftovers: [String] = []
        for iteration in 0..<12 {
            // Read-only tests end in a recycle verdict, writing ones in a reset (or a drop).
            let mode = iteration % 2 == 0 ? "--read-only-tests" : "--writing-tests"
            let run = try await Subprocess.run(
                AuditCommandTests.executable,
                ["prepare", "--swift-migrations", "--prefix", prefix, mode, "\(1 + iteration % 3)", "--exit-at-once"],
                environment: environment)
            #expect(run.status == 0, "iteration \(iteration): \(run.output)")
            let left = try await Self.clones(of: prefix, admin)
            leftovers += left.map { "iteration \(iteration): \($0)" }
        }
        #expect(leftovers.isEmpty, "databases outlived their process other than as ready clones: \(leftovers)")
        for name in try await Self.databases(of: prefix, admin) { _ = try? await admin.dropDatabase(name) }
        await admin.close()
    }

    /// The prefix's databases other than its template and the ready clones it deliberately
    /// leaves (the warm pool: marked ready, under the name they were left with).
    static func clones(of prefix: String, _ admin: AdminConnection) async throws -> [String] {
        let rows = try await admin.query("""
            SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database
            WHERE datname LIKE $1 AND NOT datistemplate
            """, prefix + "\\_%").rows
        return try rows.compactMap { row in
            let (name, comment) = (try row.decode(String.self, at: 0), try row.decode(String.self, at: 1))
            if let marker = OwnerMarker(comment: comment), marker.kind == .ready, marker.readyName == name { return nil }
            return name + " " + comment
        }
    }

    static func databases(of prefix: String, _ admin: AdminConnection) async throws -> [String] {
        let rows = try await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", prefix + "\\_%").rows
        return try rows.map { try $0.decode(String.self, at: 0) }
    }
}

/// The exit's cleanup and a rename, made to overlap on purpose (a cleanup of its own, not the
/// process's: the process must go on after it).
@Suite("The exit's cleanup and a rename on the wire")
struct ExitCleanupRenameTests {
    /// A registered clone, `<prefix>_p1`, on the suite's server, and a raw session to rename it.
    static func clone(_ cleanup: ExitCleanup) async throws -> (name: String, renamed: String, server: [String: String], session: Connection) {
        let prefix = TestSupport.uniquePrefix("exit")
        let admin = try await TestSupport.admin()
        let name = prefix + "_p1", renamed = prefix + "_p2"
        try await admin.createDatabase(name, marker: OwnerMarker(kind: .clone, run: admin.runID))
        ExitCleanup.shared.forget(name)   // this test's cleanup owns it
        await admin.close()
        let server = try await TestSupport.server().parameters()
        cleanup.register(name, server: server)
        return (name, renamed, server, try await TestSupport.connect())
    }

    static func exists(_ name: String, _ session: Connection) async throws -> Bool {
        try await session.scalar("SELECT count(*) FROM pg_database WHERE datname = $1", name, as: Int.self) == 1
    }

    @Test("A cleanup that starts while a rename is on the wire drops the database under its new name")
    func cleanupWaitsForTheRename() async throws {
        let cleanup = ExitCleanup()
        let (name, renamed, server, session) = try await Self.clone(cleanup)
        async let rename: Void = cleanup.renaming(name, to: renamed, server: server) {
            try await Task.sleep(for: .milliseconds(300))   // the cleanup starts meanwhile
            try await session.execute("ALTER DATABASE \(name) RENAME TO \(renamed)")
        }
        try await Task.sleep(for: .milliseconds(50))
        let cleaned = Task.detached { cleanup.run() }
        try await rename
        await cleaned.value
        #expect(try await !Self.exists(name, session))
        #expect(try await !Self.exists(renamed, session), "the renamed clone outlived the exit's cleanup")
        _ = try? await session.execute("DROP DATABASE IF EXISTS \(renamed) WITH (FORCE)")
        await session.close()
    }

    @Test("No rename starts once the cleanup has begun; the database is dropped under its old name")
    func noRenameAfterTheCleanupBegan() async throws {
        let cleanup = ExitCleanup()
        let (name, renamed, server, session) = try await Self.clone(cleanup)
        cleanup.run()
        await #expect(throws: TestKitError.self) {
            try await cleanup.renaming(name, to: renamed, server: server) {
                try await session.execute("ALTER DATABASE \(name) RENAME TO \(renamed)")
            }
        }
        #expect(try await !Self.exists(name, session))
        #expect(try await !Self.exists(renamed, session))
        await session.close()
    }

    @Test("A drop waits for another toolkit session's drop lock, and the database stays registered until it is gone")
    func dropWaitsForTheDropLock() async throws {
        let admin = try await TestSupport.admin()
        let name = TestSupport.uniquePrefix("lock") + "_p1"
        try await admin.createDatabase(name, marker: OwnerMarker(kind: .clone, run: admin.runID))
        let reaper = try await TestSupport.connect()   // another session, looking at it (as a reaper does)
        try await reaper.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", "pgtestkit:drop:" + name)
        async let dropped = admin.dropDatabase(name)
        try await Task.sleep(for: .milliseconds(300))
        #expect(ExitCleanup.shared.isRegistered(name), "a drop that did not happen must leave the database to the exit's cleanup")
        #expect(try await Self.exists(name, reaper))
        try await reaper.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", "pgtestkit:drop:" + name)
        _ = try await dropped
        #expect(try await !Self.exists(name, reaper))
        #expect(!ExitCleanup.shared.isRegistered(name))
        await reaper.close()
        await admin.close()
    }
}
