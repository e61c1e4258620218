import Foundation
import Testing
@testable import PostgresTestKit

/// Templates are collected by last use: one unused past its TTL goes, one a live run holds or
/// one used recently stays.
@Suite("Template collection by last use", .serialized)
struct TemplateCollectorTests {
    static let migrations = SchemaMigrations.sqlDirectory(TestSupport.fixtures.appendingPathComponent("notifications/Migrations"))

    /// Pretends a template was last used `days` ago.
    static func age(_ template: String, days: Double, _ admin: AdminConnection) async throws {
        var marker = try #require(try await admin.marker(of: template))
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-days * 86400))
        marker.lastUsed = past
        marker.created = past
        try await admin.writeMarker(marker, on: template)
    }

    @Test func anUnusedTemplatePastItsTTLIsCollectedAndOneInUseIsNot() async throws {
        let admin = try await TestSupport.admin()
        let holder = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        let held = try #require(try await holder.templateName)          // prepared: held while the manager lives
        let left = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        let abandoned = try #require(try await left.templateName)
        await left.shutdown()                                           // nobody holds it any more
        let recent = TestDatabaseManager(prefix: TestSupport.uniquePrefix(), migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        let fresh = try #require(try await recent.templateName)
        await recent.shutdown()
        try await Self.age(held, days: 10, admin)
        try await Self.age(abandoned, days: 10, admin)

        let report = try await TemplateCollector(admin: admin, logger: TestSupport.logger).collect(ttl: .seconds(86400))
        // Another manager's start-up collection may be dropping it at this moment (it holds
        // the template's lock, so this pass skipped it): give that drop a few seconds.
        var remaining = Set(try await admin.ownedDatabases().map(\.name))
        for _ in 0..<50 where remaining.contains(abandoned) && !report.dropped.contains(abandoned) {
            try await Task.sleep(for: .milliseconds(100))
            remaining = Set(try await admin.ownedDatabases().map(\.name))
        }
        await holder.shutdown()
        for name in [held, fresh] { _ = try? await admin.dropDatabase(name) }
        await admin.close()

        // Collected — by this collector, or by another manager's start-up collection running
        // beside this test (its default TTL, 3 days, also finds a template unused for 10).
        // (That collection holds its lock meanwhile, so this pass may have counted it in use.)
        #expect(!remaining.contains(abandoned), "unused for 10 days, TTL 1 day: collected")
        #expect(report.inUse.contains(held) && remaining.contains(held), "held by a live run: kept")
        #expect(!report.dropped.contains(fresh) && remaining.contains(fresh), "used a moment ago: kept")
    }

    /// Reusing a template records its last use, so a template in daily use is never collected.
    @Test func reusingATemplateRecordsItsLastUse() async throws {
        let admin = try await TestSupport.admin()
        let prefix = TestSupport.uniquePrefix()
        let first = TestDatabaseManager(prefix: prefix, migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        let template = try #require(try await first.templateName)
        await first.shutdown()
        try await Self.age(template, days: 2, admin)   // within the default TTL (3 days): reused, not collected at start-up
        let second = TestDatabaseManager(prefix: prefix, migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        #expect(try await second.builtTemplate == false)
        await second.shutdown()
        let lastUsed = try await admin.marker(of: template)?.lastUsedDate
        let report = try await TemplateCollector(admin: admin, logger: TestSupport.logger).collect(ttl: .seconds(86400))
        _ = try? await admin.dropDatabase(template)
        await admin.close()
        #expect(lastUsed.map { Date().timeIntervalSince($0) < 60 } == true)
        #expect(!report.dropped.contains(template))
    }

    @Test(arguments: [("3600", 3600), ("90m", 5400), ("36h", 129_600), ("7d", 604_800), ("0", 0)])
    func ttlForms(text: String, seconds: Int64) throws {
        #expect(try TemplateCollector.parseTTL(text) == .seconds(seconds))
    }

    @Test func aMalformedTTLSaysWhatItTakes() {
        let error = #expect(throws: TestKitError.self) { try ToolkitSettings(environment: ["PGTESTKIT_TEMPLATE_TTL": "soon"]).templateTTL.get() }
        #expect(error?.message.contains("90m, 36h, 7d") == true)
    }

    /// `pgtestkit reap --templates --prefix A` collects A's templates only: another project's
    /// on the same server stays, with its clones.
    @Test func reapTemplatesHonoursThePrefix() async throws {
        let (a, b) = (TestSupport.uniquePrefix("ra"), TestSupport.uniquePrefix("rb"))
        var templates: [String: String] = [:]
        var heldClone: PostgresTestDatabase?
        let holderB = TestDatabaseManager(prefix: b, migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
        for prefix in [a, b] {
            let manager = TestDatabaseManager(prefix: prefix, migrations: Self.migrations, poolSize: 0, logger: TestSupport.logger)
            let template = try #require(try await manager.templateName)
            templates[prefix] = template
            await manager.shutdown()
        }
        heldClone = try await holderB.acquire(testName: "other-project")   // B's live clone
        let run = { (arguments: [String]) async throws -> String in
            let output = try await Subprocess.run(AuditCommandTests.executable, ["reap", "--grace", "0", "--templates", "--ttl", "0"] + arguments)
            #expect(output.status == 0, "\(output.output)")
            return output.output
        }
        let dry = try await run(["--prefix", a, "--dry-run"])
        #expect(dry.contains("would drop template \(templates[a]!)"))
        #expect(!dry.contains(b), "a dry run for prefix \(a) named \(b)'s databases: \(dry)")
        let real = try await run(["--prefix", a])
        #expect(real.contains("dropped template \(templates[a]!)"))
        let admin = try await TestSupport.admin()
        let remaining = Set(try await admin.ownedDatabases().map(\.name))
        #expect(!remaining.contains(templates[a]!))
        #expect(remaining.contains(templates[b]!), "\(b)'s template went with a reap of \(a)")
        #expect(remaining.contains(heldClone!.name), "\(b)'s clone went with a reap of \(a)")
        try await heldClone?.release()
        await holderB.shutdown()
        _ = try? await admin.dropDatabase(templates[b]!)
        await admin.close()
    }
}
