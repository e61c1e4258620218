import Foundation
import Testing
@testable import PostgresTestKit

/// A new template takes the clone strategy measured for a template of the same prefix and a
/// like size on the same server, instead of measuring it again (four creates and drops).
///
/// The kin's remembered strategy is forged, once to each value: a template that followed it
/// both times took it from the kin; a measurement gives the same answer both times.
@Suite("Clone strategy: a kin template's measurement is reused", .serialized)
struct CloneStrategyKinTests {
    /// Builds a template with `rows` rows of ballast (about 1 kB each) under `prefix`, with a
    /// label of its own (a template of the same label would supersede the last), and returns
    /// its name and the strategy its manager chose.
    func template(prefix: String, rows: Int) async throws -> (name: String, strategy: CloneStrategy?) {
        let manager = TestDatabaseManager(
            prefix: prefix,
            migrations: .closure(fingerprint: "kin-\(UUID())") { context in
                try await context.connection.simpleQuery("""
                    CREATE TABLE ballast (id int PRIMARY KEY, body text NOT NULL);
                    INSERT INTO ballast SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, \(rows)) g;
                    """)
            },
            poolSize: 0, label: "kin-\(rows)-\(UUID().uuidString.prefix(8))", logger: TestSupport.logger)
        defer { Task { await manager.shutdown() } }
        let name = try #require(try await manager.templateName)
        return (name, try await manager.cloneStrategy)
    }

    /// Sets the strategy remembered in `template`'s marker.
    func forge(_ strategy: CloneStrategy, on template: String) async throws {
        let admin = try await TestSupport.admin()
        var marker = try #require(try await admin.marker(of: template))
        marker.cloneStrategy = strategy.rawValue
        try await admin.writeMarker(marker, on: template)
        await admin.close()
    }

    func dropTemplates(_ names: [String]) async throws {
        let admin = try await TestSupport.admin()
        for name in names {
            _ = try? await admin.connection.execute("ALTER DATABASE \"\(name)\" IS_TEMPLATE false")
            _ = try? await admin.dropDatabase(name)
        }
        await admin.close()
    }

    @Test func aTemplateOfLikeSizeTakesItsKinsStrategy() async throws {
        guard try await TestSupport.admin().serverMajorVersion >= 15 else { return }   // no strategies before 15
        let prefix = TestSupport.uniquePrefix("kin")
        let kin = try await template(prefix: prefix, rows: 1000)
        var followed: [CloneStrategy: Bool] = [:]
        for forged in CloneStrategy.allCases {
            try await forge(forged, on: kin.name)
            let new = try await template(prefix: prefix, rows: 1200)
            try await dropTemplates([new.name])   // not a kin of the next one
            followed[forged] = new.strategy == forged
        }
        try await dropTemplates([kin.name])
        #expect(followed.values.allSatisfy { $0 }, "\(followed)")
    }

    /// Its twin: a template of the same prefix but more than twice the size is no kin.
    @Test func aTemplateOfAnotherSizeIsNoKin() async throws {
        guard try await TestSupport.admin().serverMajorVersion >= 15 else { return }
        let prefix = TestSupport.uniquePrefix("kin")
        let big = try await template(prefix: prefix, rows: 20_000)   // ~20 MB of ballast against ~8 MB
        var followed: [CloneStrategy: Bool] = [:]
        for forged in CloneStrategy.allCases {
            try await forge(forged, on: big.name)
            let new = try await template(prefix: prefix, rows: 10)
            try await dropTemplates([new.name])
            followed[forged] = new.strategy == forged
        }
        try await dropTemplates([big.name])
        #expect(followed.values.contains(false), "a template more than twice the size was taken as kin: \(followed)")
    }
}
