import Foundation
import Testing
@testable import PostgresTestKit

/// Real faults against real servers and processes: nothing here is simulated.
@Suite("Faults: stopped servers, full slots, killed processes, lost data directories", .serialized)
struct FaultTests {
    /// A private embedded server, so that stopping it disturbs no other test.
    func privateServer(_ name: String) async throws -> EmbeddedServer {
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": "/dev/shm/pgtestkit-fault-\(getuid())-\(name)"])
        try await server.start(logger: TestSupport.logger)
        return server
    }

    func remove(_ server: EmbeddedServer) async {
        try? await server.stop(mode: .immediate)
        try? FileManager.default.removeItem(atPath: server.baseDirectory)
        try? FileManager.default.removeItem(atPath: server.baseDirectory + ".lock")
    }

    /// Runs `body` with a private server and removes the server whatever happens.
    func withPrivateServer(_ name: String, _ body: (EmbeddedServer) async throws -> Void) async throws {
        let server = try await privateServer(name)
        do {
            try await body(server)
        } catch {
            await remove(server)
            throw error
        }
        await remove(server)
    }

    @Test func aServerStoppedMidRunFailsCleanlyAndTheManagerRecoversAfterARestart() async throws {
        try await withPrivateServer("restart") { server in
            let manager = TestDatabaseManager(server: .connectionString(server.connectionString.raw), prefix: "fault",
                                              migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
                                              poolSize: 2, logger: TestSupport.logger)
            try await manager.prepare()
            try await manager.waitForPool()     // the pool's clones hold connections that the crash kills
            let db = try await manager.acquire(testName: "beforeCrash")
            try await server.stop(mode: .immediate)
            let started = ContinuousClock.now
            let error = await #expect(throws: PGError.self) { try await db.execute("SELECT count(*) FROM customers") }
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(error?.code == .connectionClosed, "\(String(describing: error)) state=\(String(describing: error?.sqlState))")
            #expect(error?.hint?.contains("stopped or restarted") == true)

            try await server.start(logger: TestSupport.logger)
            try? await db.release()
            for round in 0..<3 {       // pooled clones died with the server: recovered, not handed out dead
                let after = try await manager.acquire(testName: "afterRestart\(round)")   // same manager, same process
                #expect(try await after.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
                try await after.release()
            }
            await manager.shutdown()
        }
    }

    /// The background dropper's own session killed (a DBA, an idle timeout): a released
    /// clone's drop fails once and is made on a lane, not left for the exit's cleanup.
    @Test func aDropWhoseSessionWasKilledIsMadeOnALane() async throws {
        let manager = TestDatabaseManager(
            prefix: TestSupport.uniquePrefix(),
            migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
            poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "killedDropper")
        let admin = try await TestSupport.admin()
        let killed = try await admin.connection.scalar(
            "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = $1",
            manager.runID.adminApplicationName + ":drop", as: Int.self)
        try await db.release()
        await manager.waitForDrops()
        let stillThere = try await admin.exists(db.name)
        let template = try await manager.templateName
        await manager.shutdown()
        if let template { _ = try? await admin.dropDatabase(template) }
        await admin.close()
        #expect(killed == 1, "the dropper's session was found and ended")
        #expect(!stillThere, "the clone was dropped on a lane after its first drop failed")
    }

    @Test func fullConnectionSlotsWaitWithBackPressureThenExplain53300() async throws {
        try await TestSupport.withRole("CONNECTION LIMIT 1") { _, limited in
            let first = try await Connection.connect(to: limited)
            // A slot frees up while the second waits: it gets in.
            let waiter = Task { try await Connection.connect(to: limited) }
            try await Task.sleep(for: .milliseconds(150))
            await first.close()
            let second = try await waiter.value
            #expect(try await second.scalar("SELECT 1", as: Int.self) == 1)
            // No slot ever frees: after the bounded wait, a clear 53300.
            let started = ContinuousClock.now
            let error = await #expect(throws: PGError.self) {
                try await Connection.connect(to: limited, slotWait: .seconds(1))
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(500) && waited < .seconds(5))   // it did wait, boundedly
            #expect(error?.sqlState == "53300")
            #expect(error?.hint?.contains("no free connection slot") == true)
            await second.close()
        }
    }

    @Test func databasesOfAKilledProcessAreReapedByTheNextRun() async throws {
        let executable = TestSupport.repositoryRoot.appendingPathComponent(".build/debug/pgtestkit").path
        try #require(FileManager.default.isExecutableFile(atPath: executable))
        let prefix = TestSupport.uniquePrefix("killed")
        let outputFile = NSTemporaryDirectory() + "\(prefix).out"
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "exec '\(executable)' prepare --prefix \(prefix) --migrations '\(TestSupport.fixtures.path)/notifications/Migrations' --acquire 2 --hold-seconds 60 > '\(outputFile)' 2>&1"]
        // Its WAL witness (the process's, named by PGTESTKIT_PREFIX) is reaped with the rest.
        child.environment = ProcessInfo.processInfo.environment.merging(["PGTESTKIT_PREFIX": prefix]) { $1 }
        try child.run()
        var held: [String] = []
        for _ in 0..<200 where held.count < 2 && child.isRunning {   // a child that failed is not waited for
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            held = text.split(separator: "\n").filter { $0.hasPrefix("acquired ") }.map { String($0.dropFirst("acquired ".count)) }
        }
        try #require(held.count == 2, "the child did not acquire its databases")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let admin = try await TestSupport.admin()
        for name in held { #expect(try await admin.exists(name)) }   // kill -9: no exit cleanup ran
        try await Task.sleep(for: .milliseconds(300))                  // its sessions are gone
        let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: prefix, grace: .zero)
        #expect(Set(report.dropped).isSuperset(of: held))
        for name in held { #expect(try await admin.exists(name) == false) }
        for left in try await admin.ownedDatabases(prefix: prefix) { try await admin.dropDatabase(left.name) }
        await admin.close()
        try? FileManager.default.removeItem(atPath: outputFile)
    }

    @Test func theReaperNeverTouchesALiveRunOrAnUnmarkedDatabase() async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "alive")
        let plain = try await TestSupport.connect()
        let unmarked = manager.prefix + "_unmarked"
        try await plain.execute("CREATE DATABASE \(unmarked)")
        let admin = try await TestSupport.admin()
        let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: manager.prefix, grace: .zero)
        #expect(report.dropped.isEmpty)
        #expect(report.alive == [db.name])
        #expect(try await admin.exists(unmarked))
        try await plain.execute("DROP DATABASE \(unmarked)")
        try await db.release()
        await manager.shutdown()
        await admin.close()
    }

    @Test func aDeletedDataDirectoryIsRecreated() async throws {
        try await withPrivateServer("deleted") { server in
            try await server.stop()
            try FileManager.default.removeItem(atPath: server.dataDirectory)
            try await server.start(logger: TestSupport.logger)
            let connection = try await Connection.connect(to: server.connectionString)
            #expect(try await connection.scalar("SELECT 1", as: Int.self) == 1)
            await connection.close()
            // A corrupted one (PG_VERSION gone) too.
            try await server.stop()
            try FileManager.default.removeItem(atPath: server.dataDirectory + "/PG_VERSION")
            try await server.start(logger: TestSupport.logger)
            let again = try await Connection.connect(to: server.connectionString)
            #expect(try await again.scalar("SELECT 2", as: Int.self) == 2)
            await again.close()
        }
    }

    /// A real full disk: a private server on an 80 MB tmpfs (needs root to mount).
    static func smallDisk() -> String? {
        let path = "/tmp/pgtestkit-fault-small-disk"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=80m", "tmpfs", path]
        mount.standardError = FileHandle.nullDevice
        guard (try? mount.run()) != nil else { return nil }
        mount.waitUntilExit()
        return mount.terminationStatus == 0 ? path : nil
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskIsAClearError() async throws {
        let mountPoint = try #require(Self.smallDisk(), "could not mount a tmpfs")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint]
            try? umount.run()
            umount.waitUntilExit()
        }
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": mountPoint + "/pg"])
        try await server.start(logger: TestSupport.logger)
        let manager = TestDatabaseManager(server: .connectionString(server.connectionString.raw), prefix: "full",
                                          poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "fillsTheDisk")
        let error = await #expect(throws: PGError.self) {
            try await db.execute("CREATE UNLOGGED TABLE filler AS SELECT repeat(md5(g::text), 40) AS junk FROM generate_series(1, 200000) g")
        }
        #expect(error?.sqlState == "53100", "\(String(describing: error))")
        #expect(error?.message.contains("could not extend file") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("disk is full") == true)
        #expect(try await db.scalar("SELECT 1", as: Int.self) == 1)   // the session and server survive
        try await db.release()
        await manager.shutdown()
        try await server.stop(mode: .immediate)
    }

    @Test func hostileTestNamesAndPrefixesCannotInjectSQL() async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "x\"; DROP DATABASE postgres; --'")
        #expect(db.name.hasSuffix("_x_drop_database_postgres"))
        try await db.release()
        await manager.shutdown()
        let hostile = TestDatabaseManager(prefix: "p\"; DROP DATABASE postgres; --", logger: TestSupport.logger)
        await #expect(throws: TestKitError.self) { try await hostile.acquire() }
        let admin = try await TestSupport.admin()
        #expect(try await admin.exists("postgres"))
        await admin.close()
    }
}

@Suite("Shared servers: a CREATEDB role is enough")
struct SharedServerTests {
    @Test func aRoleWithCreateDBButNotSuperuserCanDoEverything() async throws {
        try await TestSupport.withRole("CREATEDB NOSUPERUSER") { role, creator in
            let manager = TestDatabaseManager(
                server: .connectionString(creator.raw), prefix: TestSupport.uniquePrefix(),
                migrations: .sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations")),
                connectHooks: [.sql("SET TIME ZONE 'UTC'")], audit: .fail, logger: TestSupport.logger)
            let db = try await manager.acquire(testName: "unprivileged")
            #expect(try await db.scalar("SELECT current_user", as: String.self) == role)
            try await db.execute("INSERT INTO customers (email, name) VALUES ('u@example.com', 'U')")
            try await db.release()
            await manager.waitForDrops()
            #expect(db.phases.current == .dropped)
            let template = try #require(try await manager.templateName)
            await manager.shutdown()
            let admin = try await TestSupport.admin()
            #expect(try await admin.ownedDatabases(prefix: manager.prefix).map(\.name) == [template])
            try await admin.dropDatabase(template)
            await admin.close()
        }
    }
}
