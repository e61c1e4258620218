import Foundation
import Testing
@testable import PostgresTestKit

/// A template of Swift migrations keyed by their sources (`closure(sources:)`) survives an
/// edit of a test and is rebuilt after an edit of a migration: the package here is a small
/// one written to a temporary directory, its test file standing in for the caller's.
@Suite("Migrations keyed by their sources", .serialized)
struct MigrationSourcesTests {
    /// A throwaway package: `Package.swift`, one migration, one test file.
    struct Package {
        let root: URL
        var testFile: URL { root.appendingPathComponent("Tests/AppTests/TodoTests.swift") }
        var migration: URL { root.appendingPathComponent("Sources/App/Migrations/CreateTodo.swift") }

        init() throws {
            root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pgtestkit-sources-\(UUID().uuidString)")
            for directory in ["Sources/App/Migrations", "Tests/AppTests"] {
                try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
            }
            try "// swift-tools-version:6.0\n".write(to: root.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
            try "struct CreateTodo { let sql = \"CREATE TABLE todos (id int)\" }\n".write(to: migration, atomically: true, encoding: .utf8)
            try "@Test func listsTodos() {}\n".write(to: testFile, atomically: true, encoding: .utf8)
        }

        func append(_ text: String, to file: URL) throws {
            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
    }

    /// One call site, so that every manager made here shares the key's site part.
    static func migrations(_ package: Package) -> SchemaMigrations {
        .closure(sources: ["Sources/App/Migrations"], filePath: package.testFile.path) { context in
            try await context.connection.execute("CREATE TABLE todos (id int)")
        }
    }

    /// Whether a manager for `package` built its template (else it reused one), and its name.
    static func prepare(_ package: Package, prefix: String) async throws -> (built: Bool, template: String) {
        let manager = TestDatabaseManager(prefix: prefix, migrations: migrations(package), poolSize: 0,
                                          label: "sources", logger: TestSupport.logger)
        let built = try await manager.builtTemplate
        let template = try #require(try await manager.templateName)
        await manager.shutdown()
        return (built, template)
    }

    @Test func aTestEditKeepsTheTemplateAndAMigrationEditRebuildsIt() async throws {
        let package = try Package()
        defer { try? FileManager.default.removeItem(at: package.root) }
        let prefix = TestSupport.uniquePrefix("src")
        let first = try await Self.prepare(package, prefix: prefix)
        #expect(first.built)
        try package.append("@Test func editedTest() {}\n", to: package.testFile)
        let afterTestEdit = try await Self.prepare(package, prefix: prefix)
        #expect(!afterTestEdit.built, "an edited test rebuilt the template")
        #expect(afterTestEdit.template == first.template)
        try package.append("// a new column\n", to: package.migration)
        let afterMigrationEdit = try await Self.prepare(package, prefix: prefix)
        #expect(afterMigrationEdit.built, "an edited migration did not rebuild the template")
        #expect(afterMigrationEdit.template != first.template)
        let admin = try await TestSupport.admin()
        for name in Set([first.template, afterMigrationEdit.template]) { _ = try? await admin.dropDatabase(name) }
        await admin.close()
    }

    @Test func aMissingSourceSaysWhereItLooked() throws {
        let package = try Package()
        defer { try? FileManager.default.removeItem(at: package.root) }
        let sources = MigrationSources(paths: ["Sources/App/Migration"], callerFile: package.testFile.path)
        let error = #expect(throws: TestKitError.self) { try sources.fingerprint() }
        #expect(error?.message.contains("'Sources/App/Migration' does not exist under the package root") == true)
        #expect(error?.message.contains(package.root.lastPathComponent) == true)
    }

    @Test func noPackageRootIsAClearError() throws {
        let sources = MigrationSources(paths: ["Sources"], callerFile: "/nonexistent-\(UUID().uuidString)/Tests/X.swift")
        let error = #expect(throws: TestKitError.self) { try sources.fingerprint() }
        #expect(error?.message.contains("found no Package.swift above") == true)
    }
}
