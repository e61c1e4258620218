import Foundation
import Testing
@testable import PostgresTestKit

/// Several roles, managers and runs on one server: each test here is one way they could get
/// in each other's way.
@Suite("Shared servers: roles, rebuilds and labels", .serialized)
struct SharedServerRolesTests {
    static let migrations = SchemaMigrations.sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations"))

    /// Two CREATEDB roles, the same migrations and prefix: each builds and clones a template of
    /// its own (the role keys it), neither touches the other's, no permission error.
    @Test func twoRolesNeverShareOrTouchEachOthersTemplates() async throws {
        let prefix = TestSupport.uniquePrefix()
        try await TestSupport.withRole("CREATEDB NOSUPERUSER") { roleA, serverA in
            try await TestSupport.withRole("CREATEDB NOSUPERUSER") { roleB, serverB in
                var templates: [String: String] = [:]
                for (role, server) in [(roleA, serverA), (roleB, serverB)] {
                    let manager = TestDatabaseManager(server: .connectionString(server.raw), prefix: prefix, migrations: Self.migrations,
                                                      audit: .fail, poolSize: 0, logger: TestSupport.logger)
                    let db = try await manager.acquire(testName: "role")
                    #expect(try await db.scalar("SELECT count(*) FROM customers", as: Int.self) == 0)
                    try await db.release()
                    templates[role] = try await manager.templateName
                    await manager.shutdown()
                }
                let admin = try await TestSupport.admin()
                let owners = try await admin.connection.execute(
                    "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY($1::text[])",
                    "{\(templates.values.joined(separator: ","))}")
                let ownerOf = Dictionary(uniqueKeysWithValues: try owners.rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) })
                for template in templates.values { _ = try? await admin.dropDatabase(template) }
                await admin.close()
                #expect(templates[roleA] != nil && templates[roleA] != templates[roleB])
                #expect(ownerOf[templates[roleA] ?? ""] == roleA, "A's template survived B's run, still A's")
                #expect(ownerOf[templates[roleB] ?? ""] == roleB)
            }
        }
    }

    /// `PGTESTKIT_REBUILD=1` while another manager holds the template: built beside, swapped in;
    /// the holder keeps acquiring, from the new one.
    @Test func aRebuildWhileAnotherManagerHoldsTheTemplateSwapsItIn() async throws {
        let prefix = TestSupport.uniquePrefix()
        let holder = TestDatabaseManager(prefix: prefix, migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        let held = try await holder.acquire(testName: "holder")
        let admin = try await TestSupport.admin()
        let template = try #require(try await holder.templateName)
        let oldOID = try await admin.connection.scalar("SELECT oid::int8 FROM pg_database WHERE datname = $1", template, as: Int.self)
        let rebuilt = try await Subprocess.run(TestSupport.cli, ["prepare", "--prefix", prefix, "--migrations", TestSupport.fixtures.appendingPathComponent("notifications/Migrations").path],
                                               environment: ProcessInfo.processInfo.environment.merging(["PGTESTKIT_REBUILD": "1"]) { $1 })
        let newOID = try await admin.connection.scalar("SELECT coalesce(max(oid::int8), 0) FROM pg_database WHERE datname = $1", template, as: Int.self)
        let next = try await holder.acquire(testName: "after")
        let customers = try await next.scalar("SELECT count(*) FROM customers", as: Int.self)
        try await held.release()
        try await next.release()
        await holder.shutdown()
        let left = try await admin.ownedDatabases(prefix: prefix).map(\.name)
        for name in left { _ = try? await admin.dropDatabase(name) }
        await admin.close()
        #expect(rebuilt.succeeded, "\(rebuilt.output)")
        #expect(rebuilt.output.contains("built \(template)"))
        #expect(newOID != 0 && newOID != oldOID, "a new database under the template's name")
        #expect(customers == 0)
        #expect(left == [template], "the replaced template was dropped: \(left)")
    }

    /// Same migrations directory, different connect hooks: two template families that never
    /// supersede each other, so alternating runs reuse rather than rebuild.
    @Test func managersThatDifferOnlyInHooksDoNotEvictEachOther() async throws {
        let prefix = TestSupport.uniquePrefix()
        func run(_ hook: String) async throws -> (built: Bool, template: String?) {
            let manager = TestDatabaseManager(prefix: prefix, migrations: Self.migrations, connectHooks: [.sql(hook)], poolSize: 0, logger: TestSupport.logger)
            try await manager.prepare()
            let result = (try await manager.builtTemplate, try await manager.templateName)
            await manager.shutdown()
            return result
        }
        let first = try await run("SET TIME ZONE 'UTC'")
        let second = try await run("SET statement_timeout = '5s'")
        let third = try await run("SET TIME ZONE 'UTC'")
        let admin = try await TestSupport.admin()
        for owned in try await admin.ownedDatabases(prefix: prefix) { _ = try? await admin.dropDatabase(owned.name) }
        await admin.close()
        #expect(first.built && second.built)
        #expect(!third.built && third.template == first.template, "the first family survived the second")
    }
}
