import Foundation
import Testing
@testable import PostgresTestKit

@Suite("AdminConnection (maintenance database only)")
struct AdminConnectionTests {
    @Test func connectsToTheMaintenanceDatabaseEvenWhenTheURLNamesAnAppDatabase() async throws {
        let server = try await TestSupport.server()
        var parameters = try server.parameters()
        parameters["dbname"] = "my_app_dev_database_that_does_not_exist"
        let admin = try await AdminConnection.connect(to: .keywordForm(parameters), runID: RunID())
        #expect(admin.database == "postgres")
        #expect(await admin.connection.database == "postgres")
        let name = try await admin.connection.scalar("SELECT current_setting('application_name')", as: String.self)
        #expect(name == admin.runID.adminApplicationName)
        await admin.close()
    }

    @Test func listsEachMaintenanceTargetWhenNoneAccepts() async throws {
        let server = try await TestSupport.server()
        var parameters = try server.parameters()
        parameters["user"] = "no_such_role_pgtestkit"
        let error = await #expect(throws: TestKitError.self) {
            try await AdminConnection.connect(to: .keywordForm(parameters), runID: RunID())
        }
        #expect(error?.code == .maintenanceDatabaseUnreachable)
        #expect(error?.message.contains("- postgres:") == true)
        #expect(error?.message.contains("- template1:") == true)
    }

    @Test func createsMarksAndDropsItsOwnDatabase() async throws {
        let admin = try await TestSupport.admin()
        let name = "\(TestSupport.uniquePrefix())_\(admin.runID)_1"
        try await admin.createDatabase(name, marker: OwnerMarker(kind: .clone, run: admin.runID, test: "createsMarksAndDrops"))
        let marker = try #require(try await admin.marker(of: name))
        #expect(marker.run == admin.runID.rawValue)
        #expect(marker.test == "createsMarksAndDrops")
        #expect(marker.pid == ProcessInfo.processInfo.processIdentifier)
        let holder = try await TestSupport.connect(database: name)
        let leftover = try await admin.dropDatabase(name)
        #expect(leftover.count == 1)   // the session still connected was reported, then forced out
        #expect(try await admin.exists(name) == false)
        _ = holder
        await admin.close()
    }

    @Test func refusesToDropADatabaseItDidNotCreate() async throws {
        let admin = try await TestSupport.admin()
        let foreign = TestSupport.uniquePrefix("foreign_")
        let plain = try await TestSupport.connect()
        try await plain.execute("CREATE DATABASE \(foreign)")
        let error = await #expect(throws: TestKitError.self) { try await admin.dropDatabase(foreign) }
        #expect(error?.code == .notOwned)
        #expect(try await admin.exists(foreign))    // it survived
        await #expect(throws: TestKitError.self) { try await admin.renameDatabase(foreign, to: foreign + "_x") }
        await #expect(throws: TestKitError.self) { try await admin.setTemplate(foreign, true) }
        try await plain.execute("DROP DATABASE \(foreign)")
        await admin.close()
    }

    @Test func hostileNamesNeverReachTheServer() async throws {
        let admin = try await TestSupport.admin()
        for name in ["x\"; DROP DATABASE postgres; --", "", String(repeating: "n", count: 64)] {
            await #expect(throws: TestKitError.self) {
                try await admin.createDatabase(name, marker: OwnerMarker(kind: .clone, run: admin.runID))
            }
        }
        #expect(try await admin.exists("postgres"))
        await admin.close()
    }

    /// A toolkit template as an interrupted DROP leaves it: datconnlimit -2, still a template.
    static func invalidTemplate(_ admin: AdminConnection) async throws -> String {
        let name = TestSupport.uniquePrefix("invalid")
        try await admin.createDatabase(name, marker: OwnerMarker(kind: .template, run: admin.runID))
        let superuser = try await TestSupport.connectAsServerFault()
        try await superuser.execute("UPDATE pg_database SET datconnlimit = -2, datistemplate = true WHERE datname = $1", name)
        await superuser.close()
        return name
    }

    /// A DROP DATABASE interrupted midway (PostgreSQL 15.5+) leaves the database invalid: an
    /// ALTER of it ends the session (FATAL) and DROP refuses a template. The toolkit's own
    /// invalid template is still dropped, and the admin session survives.
    @Test func anInvalidTemplateLeftByAnInterruptedDropIsStillDropped() async throws {
        let admin = try await TestSupport.admin()
        let name = try await Self.invalidTemplate(admin)
        _ = try await admin.dropDatabase(name)
        #expect(try await admin.exists(name) == false)
        #expect(try await admin.exists("postgres"), "the admin session survived")
        await admin.close()
    }

    /// Every other ALTER of an invalid database would end the admin session too (FATAL): the
    /// toolkit refuses it with an error instead, and the reaper drops it — a start-up reap had
    /// killed the session a manager then prepared on.
    @Test func anInvalidDatabaseIsNeverAlteredAndTheReaperDropsIt() async throws {
        let admin = try await TestSupport.admin()
        let name = try await Self.invalidTemplate(admin)
        await #expect(throws: TestKitError.self) { try await admin.renameDatabase(name, to: name + "_r") }
        await #expect(throws: TestKitError.self) { try await admin.setWriteGuard(name, enabled: true) }
        #expect(try await admin.exists("postgres"), "the admin session survived")
        guard case .dropped = try await admin.reapDatabase(name) else {
            Issue.record("the reaper did not drop the invalid template")
            return
        }
        #expect(try await admin.exists(name) == false)
        await admin.close()
    }

    /// The exit's cleanup learns of databases in one place, the admin connection: what it
    /// creates is registered (the probe's and a template build's scratch databases too), a
    /// rename moves the registration, a drop, a kept marker or a template marker ends it.
    @Test func theAdminConnectionRegistersWhatTheExitMustDrop() async throws {
        let admin = try await TestSupport.admin()
        let name = TestSupport.uniquePrefix("exitreg")
        try await admin.createDatabase(name, marker: OwnerMarker(kind: .scratch, run: admin.runID))
        #expect(ExitCleanup.shared.isRegistered(name))
        try await admin.renameDatabase(name, to: name + "_r")
        #expect(!ExitCleanup.shared.isRegistered(name))
        #expect(ExitCleanup.shared.isRegistered(name + "_r"))
        var kept = OwnerMarker(kind: .clone, run: admin.runID)
        kept.kept = true
        try await admin.writeMarker(kept, on: name + "_r")
        #expect(!ExitCleanup.shared.isRegistered(name + "_r"), "a kept database outlives the process")
        try await admin.dropDatabase(name + "_r")
        try await admin.createDatabase(name + "_t", marker: OwnerMarker(kind: .scratch, run: admin.runID))
        try await admin.writeMarker(OwnerMarker(kind: .template, run: admin.runID), on: name + "_t")
        #expect(!ExitCleanup.shared.isRegistered(name + "_t"), "a published template outlives the process")
        try await admin.createDatabase(name + "_d", marker: OwnerMarker(kind: .clone, run: admin.runID))
        try await admin.dropDatabase(name + "_d")
        #expect(!ExitCleanup.shared.isRegistered(name + "_d"))
        try await admin.dropDatabase(name + "_t")
        await admin.close()
    }
}
