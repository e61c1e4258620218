import Foundation
import Testing
@testable import PostgresTestKit

/// A process killed between its `CREATE DATABASE` and the owner marker's `COMMENT` leaves a
/// database with no comment: the reaper drops it once its run is proven dead (no admin session,
/// its lock free through the confirmation wait), and nothing else unmarked — the twins: a live
/// run's, a name that carries no run id, a database with a comment of someone else's.
extension ReaperLivenessTests {
    /// Creates `names` with no comment at all, through a plain session (as the killed create did).
    static func createUnmarked(_ names: [String]) async throws {
        let superuser = try await TestSupport.connect()
        for name in names { try await superuser.execute("CREATE DATABASE \"\(name)\"") }
        await superuser.close()
    }

    static func dropPlain(_ names: [String]) async throws {
        let superuser = try await TestSupport.connect()
        for name in names { _ = try? await superuser.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)") }
        await superuser.close()
    }

    @Test func anUnmarkedDatabaseOfADeadRunIsDroppedAndNothingElseUnmarked() async throws {
        let prefix = TestSupport.uniquePrefix("um")
        let (dead, live) = (RunID(), RunID())
        let orphan = "\(prefix)_\(dead.rawValue)_1_killedbeforeitsmarker"
        let witness = "\(prefix)_\(dead.rawValue)_wal"
        let livesOn = "\(prefix)_\(live.rawValue)_1"          // its run has an admin session
        let noRun = "\(prefix)_userdata_1"                     // no run id in the name
        let notOurShape = "\(prefix)_\(dead.rawValue)_notes"  // a run id, but no toolkit name
        let commented = "\(prefix)_\(dead.rawValue)_2"        // someone's comment, not a marker
        let all = [orphan, witness, livesOn, noRun, notOurShape, commented]
        try await Self.createUnmarked(all)
        let superuser = try await TestSupport.connect()
        try await superuser.execute("COMMENT ON DATABASE \"\(commented)\" IS 'the team''s fixtures'")
        await superuser.close()
        let liveAdmin = try await AdminConnection.connect(to: try await TestSupport.server(), runID: live, logger: TestSupport.logger)
        let admin = try await TestSupport.admin()
        let reaper = Reaper(admin: admin, logger: TestSupport.logger, confirmation: .milliseconds(200))
        let dry = try await reaper.reap(prefix: prefix, grace: .zero, dryRun: true)
        #expect(Set(dry.dropped) == [orphan, witness], "\(dry)")
        #expect(try await admin.exists(orphan), "a dry run drops nothing")
        let report = try await reaper.reap(prefix: prefix, grace: .zero)
        #expect(Set(report.dropped) == [orphan, witness], "\(report)")
        #expect(report.alive == [livesOn])
        #expect(try await !admin.exists(orphan))
        for kept in [livesOn, noRun, notOurShape, commented] { #expect(try await admin.exists(kept), "\(kept)") }
        // Its run gone, the live run's unmarked database goes too.
        await liveAdmin.close()
        try await Self.terminateSessions(of: live)
        let later = try await reaper.reap(prefix: prefix, grace: .zero)
        #expect(later.dropped == [livesOn], "\(later)")
        await admin.close()
        try await Self.dropPlain(all)
    }

    /// An unscoped pass (`pgtestkit reap` without `--prefix`) has no name shape to hold an
    /// unmarked database to: it leaves them all.
    @Test func anUnscopedPassLeavesUnmarkedDatabases() async throws {
        let prefix = TestSupport.uniquePrefix("um")
        let orphan = "\(prefix)_\(RunID().rawValue)_1"
        try await Self.createUnmarked([orphan])
        let admin = try await TestSupport.admin()
        let report = try await Reaper(admin: admin, logger: TestSupport.logger, confirmation: .milliseconds(200)).reap(grace: .zero, dryRun: true)
        #expect(!report.dropped.contains(orphan))
        await admin.close()
        try await Self.dropPlain([orphan])
    }

    @Test(arguments: [
        ("app_0a1b2c3d4e_1", "0a1b2c3d4e"), ("app_0a1b2c3d4e_12_places_an_order", "0a1b2c3d4e"), ("app_0a1b2c3d4e_g1p7", "0a1b2c3d4e"),
        ("app_0a1b2c3d4e_wal", "0a1b2c3d4e"), ("app_tplb_0123456789ab_0a1b2c3d4e", "0a1b2c3d4e"),
        ("app_tpl_0123456789abcdef_probe_0a1b2c3d4e_0", "0a1b2c3d4e"),
    ])
    func aToolkitNameCarriesItsRun(name: String, run: String) {
        #expect(RunID.ofToolkitName(name, prefix: "app")?.rawValue == run)
    }

    @Test(arguments: ["app_0a1b2c3d4e_notes", "app_0A1B2C3D4E_1", "app_userdata_1", "other_0a1b2c3d4e_1", "app_0a1b2c3d4e", "app_0a1b2c3d4e_wal_x", "app_tpl_0123456789abcdef"])
    func anyOtherNameCarriesNone(name: String) {
        #expect(RunID.ofToolkitName(name, prefix: "app") == nil)
    }
}
