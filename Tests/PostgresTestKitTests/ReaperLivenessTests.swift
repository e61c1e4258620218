import Foundation
import Testing
@testable import PostgresTestKit

/// The reaper against real sessions, processes and roles: each attack (a run that looks dead
/// but is not, a database in use, a database it may not drop) with its clean twin.
@Suite("Reaper liveness: sessions, processes, run locks and privileges", .serialized)
struct ReaperLivenessTests {
    /// The pid of a process that has exited (and been collected): `kill(pid, 0)` says ESRCH.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// A marker of `run` as its process would have written it, but from a process that is gone.
    static func deadMarker(_ run: RunID, kind: OwnerMarker.Kind = .clone, host: String? = nil) throws -> OwnerMarker {
        var marker = OwnerMarker(kind: kind, run: run)
        marker.pid = try deadPID()
        if let host { marker.host = host }
        return marker
    }

    /// Creates `names` through a session of `run` (`pgtestkit-admin:<run>`), then kills that
    /// session with `pg_terminate_backend`: the run has lost its admin session.
    static func createOrphans(_ names: [String], run: RunID, marker: OwnerMarker, server: ConnectionString? = nil) async throws {
        let target: ConnectionString
        if let server { target = server } else { target = try await TestSupport.server() }
        let admin = try await AdminConnection.connect(to: target, runID: run, logger: TestSupport.logger)
        for name in names { try await admin.createDatabase(name, marker: marker) }
        try await terminateSessions(of: run)
        await admin.close()
    }

    /// Terminates every session whose `application_name` names `run` and waits until they are gone.
    static func terminateSessions(of run: RunID, suffix: String = "") async throws {
        let superuser = try await TestSupport.connect()
        let pattern = "%:\(run.rawValue)\(suffix)%"
        try await superuser.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1", pattern)
        for _ in 0..<500 {
            let left = try await superuser.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1", pattern, as: Int.self)
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        await superuser.close()
    }

    static func dropLeftovers(_ prefix: String) async throws {
        let admin = try await TestSupport.admin()
        for database in try await admin.ownedDatabases(prefix: prefix) { try await admin.dropDatabase(database.name) }
        await admin.close()
    }

    @Test func processLivenessFollowsKill() throws {
        #expect(Reaper.processExists(getpid()))
        #expect(Reaper.processExists(1))                 // another user's or init: alive (EPERM or 0)
        #expect(!Reaper.processExists(try Self.deadPID()))
        #expect(!Reaper.processExists(0) && !Reaper.processExists(-1))   // never a process group
        #expect(OwnerMarker(kind: .clone, run: RunID()).isFromThisHost)
    }

    // (a) A dead run (admin session killed, process gone) whose database has a session.

    @Test func aConnectedSessionKeepsADeadRunsDatabase() async throws {
        let prefix = TestSupport.uniquePrefix("reap")
        let run = RunID()
        let name = "\(prefix)_\(run)_used"
        try await Self.createOrphans([name], run: run, marker: try Self.deadMarker(run))
        let user = try await TestSupport.connect(database: name)   // e.g. a test's pool the run left behind
        let admin = try await TestSupport.admin()
        let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: prefix, grace: .zero)
        #expect(report.dropped.isEmpty)
        #expect(report.inUse == [name])
        #expect(try await admin.exists(name))
        #expect(try await user.scalar("SELECT 1", as: Int.self) == 1)   // not terminated either
        await user.close()
        await admin.close()
        try await Self.dropLeftovers(prefix)
    }

    @Test func theSameDeadRunWithoutASessionIsDropped() async throws {
        let prefix = TestSupport.uniquePrefix("reap")
        let run = RunID()
        let name = "\(prefix)_\(run)_free"
        try await Self.createOrphans([name], run: run, marker: try Self.deadMarker(run))
        let admin = try await TestSupport.admin()
        let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: prefix, grace: .zero)
        #expect(report.dropped == [name])
        #expect(report.inUse.isEmpty && report.failures.isEmpty)
        #expect(try await admin.exists(name) == false)
        await admin.close()
    }

    // (b) A live process whose every session was killed.

    /// A real manager holding a database, then every session of its run terminated (admin,
    /// background dropper, the test's own connection): only its process shows it is alive.
    func withKilledSessions(_ body: (TestDatabaseManager, PostgresTestDatabase, AdminConnection) async throws -> Void) async throws {
        let manager = TestDatabaseManager(prefix: TestSupport.uniquePrefix("reap"), poolSize: 0, logger: TestSupport.logger)
        let db = try await manager.acquire(testName: "survivor")
        try await Self.terminateSessions(of: manager.runID)
        let admin = try await TestSupport.admin()
        #expect(try await admin.connectedSessions(on: db.name).isEmpty)
        do {
            try await body(manager, db, admin)
        } catch {
            try? await db.release()
            await manager.shutdown()
            await admin.close()
            try? await Self.dropLeftovers(manager.prefix)
            throw error
        }
        try? await db.release()
        await manager.shutdown()
        await admin.close()
        try await Self.dropLeftovers(manager.prefix)
    }

    @Test func aRunWhoseSessionsWereKilledButWhoseProcessLivesIsNotReaped() async throws {
        try await withKilledSessions { manager, db, admin in
            let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: manager.prefix, grace: .zero)
            #expect(report.dropped.isEmpty)
            #expect(report.alive == [db.name])
            #expect(try await admin.exists(db.name))
        }
    }

    /// Even when its marker names a dead pid, a run whose keeper holds the run lock (its
    /// admin sessions all killed) is alive: the keeper reconnects and takes the lock again.
    /// (The clean twin, a same-host run whose process is gone, is
    /// ``theSameDeadRunWithoutASessionIsDropped()``.)
    @Test func aRunWhoseKeeperHoldsItsLockIsNotReapedWhateverItsMarkerSays() async throws {
        try await withKilledSessions { manager, db, admin in
            var marker = try #require(try await admin.marker(of: db.name))
            marker.pid = try Self.deadPID()          // the marker lies: the process is alive
            try await admin.writeMarker(marker, on: db.name)
            try await Task.sleep(for: .seconds(2))   // the keeper has reconnected by now
            let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: manager.prefix, grace: .zero)
            #expect(report.dropped.isEmpty)
            #expect(try await admin.exists(db.name))
        }
    }

    // (c) Another role's database: reported, and the pass goes on.

    @Test func aDatabaseTheReaperMayNotDropIsReportedAndThePassGoesOn() async throws {
        try await TestSupport.withRole("CREATEDB NOSUPERUSER") { owner, ownerServer in
            try await TestSupport.withRole("CREATEDB NOSUPERUSER") { reaperRole, reaperServer in
                let prefix = TestSupport.uniquePrefix("reap")
                let theirs = RunID(), mine = RunID()
                let foreign = "\(prefix)_a_\(theirs)"          // sorts first: the failure comes before the drop
                let own = "\(prefix)_b_\(mine)"
                try await Self.createOrphans([foreign], run: theirs, marker: try Self.deadMarker(theirs), server: ownerServer)
                try await Self.createOrphans([own], run: mine, marker: try Self.deadMarker(mine), server: reaperServer)
                let superuser = try await TestSupport.admin()
                do {
                    let admin = try await AdminConnection.connect(to: reaperServer, runID: RunID(), logger: TestSupport.logger)
                    let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: prefix, grace: .zero)
                    await admin.close()
                    #expect(report.failures.map(\.database) == [foreign])
                    let failure = try #require(report.failures.first)
                    #expect(failure.error.code == .notOwned)
                    #expect(failure.error.message.contains(owner) && failure.error.message.contains(reaperRole), "\(failure)")
                    #expect((failure.error.underlying as? PGError)?.sqlState == "42501")
                    #expect(report.dropped == [own])
                    #expect(try await superuser.exists(foreign))
                    #expect(try await superuser.exists(own) == false)

                    // The start-up preparation of that role's manager meets the same database: it
                    // does not throw, and still reaps what it may.
                    let again = "\(prefix)_c_\(mine)"
                    try await Self.createOrphans([again], run: mine, marker: try Self.deadMarker(mine), server: reaperServer)
                    let manager = TestDatabaseManager(server: .connectionString(reaperServer.raw), prefix: prefix, poolSize: 0, logger: TestSupport.logger)
                    await #expect(throws: Never.self) { try await manager.prepare() }
                    await manager.shutdown()
                    #expect(try await superuser.exists(again) == false)
                    #expect(try await superuser.exists(foreign))
                } catch {
                    try? await Self.dropLeftovers(prefix)
                    await superuser.close()
                    throw error
                }
                try await Self.dropLeftovers(prefix)   // as superuser, before the roles go
                await superuser.close()
            }
        }
    }

    // (d) A run of another host whose every session was killed, but whose keeper comes back.

    @Test func aRunOfAnotherHostWhoseKeeperComesBackIsNotReaped() async throws {
        let prefix = TestSupport.uniquePrefix("reap")
        let run = RunID()
        let name = "\(prefix)_\(run)_remote"
        let server = try await TestSupport.server()
        let keeper = await RunKeeper.start(server: server, runID: run, interval: .milliseconds(200), logger: TestSupport.logger)
        // Every session of the run, the keeper's included, is killed (a DBA, a crash, PgBouncer).
        try await Self.createOrphans([name], run: run, marker: try Self.deadMarker(run, host: "elsewhere.invalid"))
        let admin = try await TestSupport.admin()
        let report = try await Reaper(admin: admin, logger: TestSupport.logger, confirmation: .seconds(2))
            .reap(prefix: prefix, grace: .zero)
        #expect(report.dropped.isEmpty)
        #expect(report.alive == [name])
        #expect(try await admin.exists(name))
        #expect(try await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", run.adminApplicationName + ":keeper").rows.count == 1)

        // Its clean twin: the same run with its keeper stopped is dead after the confirmation wait.
        await keeper.stop()
        // Its backend may outlive the close for a moment on a loaded machine: wait it out.
        for _ in 0..<100 {
            let left = try await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", run.adminApplicationName + ":keeper").rows.count
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let twin = try await Reaper(admin: admin, logger: TestSupport.logger, confirmation: .milliseconds(300))
            .reap(prefix: prefix, grace: .zero)
        #expect(twin.dropped == [name])
        #expect(try await admin.exists(name) == false)
        await admin.close()
    }

    @Test func aRunOfAnotherHostIsJudgedByAgeNotByAProcessOfThisHost() async throws {
        let prefix = TestSupport.uniquePrefix("reap")
        let run = RunID()
        let name = "\(prefix)_\(run)_young"
        var marker = OwnerMarker(kind: .clone, run: run)
        marker.host = "elsewhere.invalid"           // its pid (ours, alive) means nothing here
        try await Self.createOrphans([name], run: run, marker: marker)
        let admin = try await TestSupport.admin()
        let reaper = Reaper(admin: admin, logger: TestSupport.logger, confirmation: .zero)
        let young = try await reaper.reap(prefix: prefix, grace: .seconds(3600))
        #expect(young.alive == [name] && young.dropped.isEmpty)
        let old = try await reaper.reap(prefix: prefix, grace: .zero)
        #expect(old.dropped == [name])
        await admin.close()
    }

    // Leftovers and filters.

    @Test func aHalfPublishedTemplateOfADeadRunIsDropped() async throws {
        let prefix = TestSupport.uniquePrefix("reap")
        let run = RunID()
        let name = "\(prefix)_tpl_\(run)"
        try await Self.createOrphans([name], run: run, marker: try Self.deadMarker(run, kind: .scratch))
        let admin = try await TestSupport.admin()
        try await admin.setTemplate(name, true)   // renamed and made a template; the template marker never written
        let report = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: prefix, grace: .zero)
        #expect(report.dropped == [name], "\(report.failures)")
        #expect(try await admin.exists(name) == false)
        await admin.close()
    }

    @Test func aScopedPassReapsOnlyTheRunsAndHostsItNames() async throws {
        let prefix = TestSupport.uniquePrefix("reap")
        let ours = RunID(), theirs = RunID(), remote = RunID()
        try await Self.createOrphans(["\(prefix)_\(ours)_1"], run: ours, marker: try Self.deadMarker(ours))
        try await Self.createOrphans(["\(prefix)_\(theirs)_1"], run: theirs, marker: try Self.deadMarker(theirs))
        try await Self.createOrphans(["\(prefix)_\(remote)_1"], run: remote, marker: try Self.deadMarker(remote, host: "elsewhere.invalid"))
        var kept = try Self.deadMarker(theirs)
        kept.kept = true
        try await Self.createOrphans(["\(prefix)_\(theirs)_kept"], run: theirs, marker: kept)
        let admin = try await TestSupport.admin()
        let reaper = Reaper(admin: admin, logger: TestSupport.logger, confirmation: .zero)
        let byRun = try await reaper.reap(scope: .init(prefixes: [prefix], runs: [ours.rawValue]), grace: .zero, includeKept: true)
        #expect(byRun.dropped == ["\(prefix)_\(ours)_1"])
        let byHost = try await reaper.reap(scope: .init(prefixes: [prefix], thisHostOnly: true), grace: .zero, includeKept: true, dryRun: true)
        #expect(Set(byHost.dropped) == ["\(prefix)_\(theirs)_1", "\(prefix)_\(theirs)_kept"])   // not the other host's
        #expect(try await admin.exists("\(prefix)_\(theirs)_1"))                                  // a dry run
        await admin.close()
        try await Self.dropLeftovers(prefix)
    }
}
