import Foundation
import Testing
@testable import PostgresTestKit

/// The warm pool: a test process leaves its ready clones at exit, marked with the WAL position
/// from which they are unchanged, and the next process of the same template adopts them —
/// only those still unchanged, unconnected and under the name they were left with, each by
/// one process. Fresh `pgtestkit prepare` processes play the test processes.
@Suite("The warm pool: ready clones outlive their process", .serialized)
struct WarmPoolTests {
    struct Run {
        let status: Int32
        let output: String
        /// The summary line's "N adopted".
        var adopted: Int? { count("adopted") }
        /// The summary line's "N <what>" (`adopted`, `reset`, `dropped`).
        func count(_ what: String) -> Int? {
            guard let range = output.range(of: #"(\d+) "# + what + ",", options: .regularExpression) else { return nil }
            return Int(output[range].split(separator: " ")[0])
        }
    }

    /// A test process that runs `tests` read-only tests and exits without `shutdown()`, as a
    /// suite's process does (its static managers are never shut down).
    /// With `writing` > 0 it runs that many writing tests instead (each inserts a row into a
    /// table empty in the template) and shuts its manager down, so that every verdict is in
    /// its summary.
    static func testProcess(_ prefix: String, tests: Int = 2, writing: Int = 0, burstOf burst: Int = 0, verbose: Bool = false, environment extra: [String: String] = [:]) async throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: AuditCommandTests.executable), "build the pgtestkit product first")
        var environment = ProcessInfo.processInfo.environment
        environment["PGTESTKIT_AUDIT"] = "warn"
        // The rest of the suite writes a lot of WAL meanwhile; what is tested here is the proof.
        environment["PGTESTKIT_ADOPT_MAX_WAL"] = "2048"
        environment.merge(extra) { $1 }
        let output = try await Subprocess.run(
            AuditCommandTests.executable,
            ["prepare", "--swift-migrations", "--prefix", prefix]
                + (burst > 0 ? ["--burst", "\(burst)"] : writing > 0 ? ["--writing-tests", "\(writing)"] : ["--read-only-tests", "\(tests)", "--exit-at-once"])
                + (verbose ? ["--verbose"] : []),
            environment: environment)
        return Run(status: output.status, output: output.output)
    }

    /// The ready clones of `prefix` on the server.
    static func ready(_ prefix: String, _ admin: AdminConnection) async throws -> [OwnedDatabase] {
        try await admin.ownedDatabases(prefix: prefix).filter { $0.marker.kind == .ready }
    }

    /// Drops everything of `prefix` (ready clones, clones, template).
    static func cleanUp(_ prefix: String, _ admin: AdminConnection) async {
        for database in (try? await admin.ownedDatabases(prefix: prefix)) ?? [] { _ = try? await admin.dropDatabase(database.name) }
        await admin.close()
    }

    /// Runs `body` with ready clones left by a first process; `nil` where clones are not
    /// recycled (no `pg_walinspect`): then the process must have left nothing.
    static func withReadyClones(_ body: (String, [OwnedDatabase], AdminConnection) async throws -> Void) async throws {
        let prefix = TestSupport.uniquePrefix("warm")
        let admin = try await TestSupport.admin()
        do {
            let first = try await testProcess(prefix)
            #expect(first.status == 0, "\(first.output)")
            let left = try await ready(prefix, admin)
            guard try await CloneRecyclingTests.serverHasWalinspect() else {
                #expect(left.isEmpty, "without the WAL nothing can be vouched for, so nothing is left")
                await cleanUp(prefix, admin)
                return
            }
            #expect(!left.isEmpty, "the first process left no ready clone: \(first.output)")
            for clone in left {
                #expect(clone.marker.readyName == clone.name && clone.marker.readyLSN != nil && clone.marker.template != nil)
                #expect(clone.marker.peak == 1, "the most tests that held a clone at once (its tests run one after another)")
            }
            try await body(prefix, left, admin)
        } catch {
            await cleanUp(prefix, admin)
            throw error
        }
        await cleanUp(prefix, admin)
    }

    @Test("The next process adopts the ready clones and leaves its own")
    func theNextProcessAdoptsThem() async throws {
        try await Self.withReadyClones { prefix, left, admin in
            let second = try await Self.testProcess(prefix)
            #expect(second.status == 0, "\(second.output)")
            // Up to its pool's target (2, or the first run's peak).
            let adopted = try #require(second.adopted)
            #expect(adopted >= min(2, left.count) && adopted <= left.count, "\(second.output)")
            let now = try await Self.ready(prefix, admin)
            let stillThere = Set(now.map(\.name)).intersection(left.map(\.name))
            #expect(stillThere.count == left.count - adopted, "adopted clones are this process's now, under its names")
            #expect(now.count > stillThere.count, "the second process leaves its own")
        }
    }

    @Test("A process that adopts all its clones resets its writing tests' clones from the template's baseline")
    func adoptedPoolResets() async throws {
        try await Self.withReadyClones { prefix, left, admin in
            // The baseline was read when the template was built, and travels in its marker.
            let template = try #require(left.first?.marker.template)
            let baseline = try #require(try await admin.marker(of: template)?.baseline, "the template's marker carries its baseline")
            // Two writing tests, one after the other: the second process adopts its clones and
            // makes none, so the baseline can only come from the marker (it was read from a
            // fresh clone before, and written clones were dropped: "the template's baseline was not read").
            let second = try await Self.testProcess(prefix, writing: 2, verbose: true)
            #expect(second.status == 0, "\(second.output)")
            #expect((second.adopted ?? 0) >= 1, "\(second.output)")
            #expect(!second.output.contains("baseline was not read"), "\(second.output)")
            #expect(second.count("reset") == 2 && second.count("dropped") == 0, "both writing tests' clones are reset: \(second.output)")
            // Read on a clone of its own, after the runs (a session on a ready clone would keep
            // it from adoption).
            let clone = prefix + "_oid"
            try await admin.createDatabase(clone, template: template, marker: OwnerMarker(kind: .clone, run: admin.runID))
            let reader = try await TestSupport.connect(database: clone)
            let oid = try await reader.scalar("SELECT 'swift_migrated'::regclass::oid::int8", as: Int64.self)
            await reader.close()
            #expect(baseline.emptyTables.contains(UInt32(oid)), "the table the tests write into is empty in the template")
        }
    }

    /// A ready clone a live run has claimed (renamed under its own name) and not brought back
    /// yet still carries the leaving run's marker; a reaper (another process's start-up
    /// chores, beside the adoption) leaves it. Its twin: renamed under a run that is not
    /// alive, it is a dead run's, and reaped.
    @Test("The reaper leaves a ready clone a live run has claimed, and takes one a dead run claimed")
    func theReaperLeavesAClaimedReadyClone() async throws {
        try await Self.withReadyClones { prefix, left, admin in
            try #require(left.count >= 2, "the first process leaves two ready clones (pool size 2)")
            let claimed = "\(prefix)_\(admin.runID.rawValue)_g1p99"   // this admin's run: alive
            let abandoned = "\(prefix)_\(RunID().rawValue)_g1p98"     // no session: dead
            try await admin.renameDatabase(left[0].name, to: claimed)
            try await admin.renameDatabase(left[1].name, to: abandoned)
            let reaped = try await Reaper(admin: admin, logger: TestSupport.logger).reap(
                prefix: prefix, scope: .init(thisHostOnly: true), grace: .zero, dryRun: true)
            #expect(!reaped.dropped.contains(claimed) && reaped.alive.contains(claimed), "\(reaped)")
            #expect(reaped.dropped.contains(abandoned), "\(reaped)")
        }
    }

    @Test("A ready clone written into, connected to or renamed is not adopted")
    func changedConnectedOrRenamedCloneIsNotAdopted() async throws {
        try await Self.withReadyClones { prefix, left, admin in
            try #require(left.count >= 2, "the first process leaves two ready clones (pool size 2)")
            // Written into (rows, through another client): dropped at adoption, not adopted.
            let written = left[0].name
            let app = try await TestSupport.connect(database: written)
            try await app.execute("INSERT INTO swift_migrated (name) VALUES ('written while it waited')")
            await app.close()
            // Connected to (a session that stays): left alone.
            let connected = left[1].name
            let holder = try await TestSupport.connect(database: connected)
            let second = try await Self.testProcess(prefix, verbose: true)
            #expect(second.status == 0, "\(second.output)")
            // The others the first process left (its pool may have grown past two) are adopted.
            #expect(second.adopted == left.count - 2, "\(second.output)")
            #expect(!second.output.contains("adopted \(written) as") && !second.output.contains("adopted \(connected) as"), "\(second.output)")
            #expect(try await !admin.exists(written), "a ready clone someone wrote into is dropped")
            #expect(try await admin.exists(connected), "a ready clone with a session is left alone")
            await holder.close()
            // Renamed: not adopted, and reaped as any dead run's clone.
            let renamed = prefix + "_renamed"
            _ = try await admin.waitForNoSessions(on: connected)
            try await admin.renameDatabase(connected, to: renamed)
            let stillReady = Set(try await Self.readyNames(prefix, admin))   // the second process's
            // The third adopts up to its pool's target: its size (2), grown to the peak the
            // second recorded in its clones' markers — which may have left one more than that.
            let peak = try await Self.ready(prefix, admin).filter { stillReady.contains($0.name) }.compactMap(\.marker.peak).max() ?? 2
            let reaped = try await Reaper(admin: admin, logger: TestSupport.logger).reap(
                prefix: prefix, scope: .init(thisHostOnly: true), grace: .zero, dryRun: true)
            #expect(reaped.dropped.contains(renamed), "the reaper takes a renamed ready clone: \(reaped)")
            #expect(stillReady.isDisjoint(with: reaped.dropped), "the reaper leaves the warm pool alone")
            let third = try await Self.testProcess(prefix, verbose: true)
            #expect(third.status == 0, "\(third.output)")
            #expect(!third.output.contains("adopted \(renamed) as"), "a renamed ready clone is not adopted")
            #expect(third.adopted == min(stillReady.count, max(2, peak)), "\(third.output)")
            #expect(try await !admin.exists(renamed), "the third process's start-up reap took it")
        }
    }

    /// The pool learns the most tests that held a clone at once, clones from the pool
    /// included: a process whose burst of 6 was served partly by adopted clones keeps every
    /// clone that comes back (none is surplus), records 6 as its peak and leaves what came back,
    /// and the next process of the same burst, its preparation making the rest, takes all 6
    /// from the pool. A pool that learned from its
    /// misses only stayed at what it adopted, and every later run missed the rest.
    @Test("A burst served by adopted clones teaches the pool its size")
    func aBurstServedFromThePoolIsLearned() async throws {
        let prefix = TestSupport.uniquePrefix("warmburst")
        let admin = try await TestSupport.admin()
        do {
            let first = try await Self.testProcess(prefix, burstOf: 3)
            #expect(first.status == 0, "\(first.output)")
            guard try await CloneRecyclingTests.serverHasWalinspect() else { await Self.cleanUp(prefix, admin); return }
            let second = try await Self.testProcess(prefix, burstOf: 6)
            #expect(second.status == 0, "\(second.output)")
            let left = try await Self.ready(prefix, admin)
            // Its last acquires may take clones its first tests gave back: it leaves between the
            // 3 it adopted and the 6 it held at once, each marked with the peak of 6.
            #expect((3...6).contains(left.count), "the clones the burst held came back and were left: \(left.map(\.name)) \(second.output)")
            #expect(left.allSatisfy { $0.marker.peak == 6 }, "\(left.map { $0.marker.peak ?? 0 })")
            let third = try await Self.testProcess(prefix, burstOf: 6)
            // Its preparation makes what the peak needs beyond what was left: all 6 pop.
            #expect(third.output.contains("burst: 6/6 from the pool"), "\(third.output)")
        } catch {
            await Self.cleanUp(prefix, admin)
            throw error
        }
        await Self.cleanUp(prefix, admin)
    }

    /// The names of the prefix's ready clones that are still under their left name.
    static func readyNames(_ prefix: String, _ admin: AdminConnection) async throws -> [String] {
        try await ready(prefix, admin).filter { $0.name == $0.marker.readyName }.map(\.name)
    }

    @Test("Two processes starting at once never adopt the same ready clone")
    func twoProcessesNeverAdoptTheSameClone() async throws {
        let prefix = TestSupport.uniquePrefix("warm")
        let admin = try await TestSupport.admin()
        let first = try await Self.testProcess(prefix, tests: 4, environment: ["PGTESTKIT_POOL_SIZE": "4"])
        #expect(first.status == 0, "\(first.output)")
        let left = try await Self.ready(prefix, admin)
        async let a = Self.testProcess(prefix, environment: ["PGTESTKIT_POOL_SIZE": "4"])
        async let b = Self.testProcess(prefix, environment: ["PGTESTKIT_POOL_SIZE": "4"])
        let (one, two) = try await (a, b)
        #expect(one.status == 0 && two.status == 0, "\(one.output)\n\(two.output)")
        #expect((one.adopted ?? 0) + (two.adopted ?? 0) <= left.count, "more adoptions than ready clones: \(one.output)\n\(two.output)")
        if try await CloneRecyclingTests.serverHasWalinspect() {
            #expect((one.adopted ?? 0) + (two.adopted ?? 0) == left.count, "every ready clone is adopted by one of them")
        }
        await Self.cleanUp(prefix, admin)
    }

    @Test("The reaper leaves a template's ready clones; the collector takes them with it")
    func readyClonesGoWithTheirTemplate() async throws {
        try await Self.withReadyClones { prefix, left, admin in
            let reaped = try await Reaper(admin: admin, logger: TestSupport.logger).reap(prefix: prefix, scope: .init(thisHostOnly: true), grace: .zero)
            #expect(Set(reaped.ready) == Set(left.map(\.name)), "the warm pool is not a dead run's leftover")
            #expect(reaped.dropped.isEmpty)
            let collected = try await TemplateCollector(admin: admin, logger: TestSupport.logger)
                .collect(ttl: .zero, scope: .init(prefixes: [prefix]))
            #expect(Set(collected.readyDropped) == Set(left.map(\.name)))
            #expect(try await Self.ready(prefix, admin).isEmpty)
            #expect(try await !admin.census().contains { left.map(\.name).contains($0) })
        }
    }

    @Test("A superseded template takes its ready clones with it")
    func aSupersededTemplateTakesItsReadyClones() async throws {
        let prefix = TestSupport.uniquePrefix("sup")
        let admin = try await TestSupport.admin()
        let first = TestDatabaseManager(prefix: prefix, migrations: .closure(fingerprint: "v1") { _ in }, poolSize: 0,
                                        label: "superseding", logger: TestSupport.logger)
        let old = try #require(try await first.templateName)
        await first.shutdown()
        var marker = OwnerMarker(kind: .ready, run: RunID())
        marker.template = old
        marker.readyName = prefix + "_ready1"
        try await admin.createDatabase(prefix + "_ready1", marker: marker)
        ExitCleanup.shared.forget(prefix + "_ready1")   // as a clone an earlier process left
        let second = TestDatabaseManager(prefix: prefix, migrations: .closure(fingerprint: "v2") { _ in }, poolSize: 0,
                                         label: "superseding", logger: TestSupport.logger)
        let new = try #require(try await second.templateName)
        #expect(new != old)
        #expect(try await !admin.exists(old), "the superseded template is dropped")
        #expect(try await !admin.exists(prefix + "_ready1"), "its ready clone goes with it, not left for the reaper")
        await second.shutdown()
        await Self.cleanUp(prefix, admin)
    }
}
