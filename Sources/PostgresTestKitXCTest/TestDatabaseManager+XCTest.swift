import PostgresTestKit
import XCTest

extension TestDatabaseManager {
    /// Acquires a database for an XCTest test and registers its release as a teardown block.
    ///
    /// Call it from `setUp() async throws`. The database name carries the test's name; a
    /// failed test's database is kept under `PGTESTKIT_KEEP=failed`. Works under
    /// `swift test --parallel`, where every process has its own run id. A run-level failure
    /// (under audit policy `.fail`, a write the server log showed that no test can be blamed
    /// for) is reported as a failed test after the others, once per process.
    public nonisolated func acquire(for testCase: XCTestCase, isolation: Isolation = .database) async throws -> PostgresTestDatabase {
        await RunFailureObserver.registerOnce()
        // The test case's class groups its rows in the timeline.
        let database = try await acquire(testName: Self.methodName(testCase.name), suite: String(describing: type(of: testCase)),
                                         isolation: isolation)
        let run = TestRunObserver(testCase)
        testCase.addTeardownBlock {
            try await database.release(testFailed: run.failed)
        }
        return database
    }

    /// `testFoo` from `Class.testFoo` (Linux) or `-[Class testFoo]` (Apple platforms).
    nonisolated static func methodName(_ name: String) -> String {
        let trimmed = name.hasPrefix("-[") ? String(name.dropFirst(2).dropLast()) : name
        return trimmed.split(whereSeparator: { $0 == "." || $0 == " " }).last.map(String.init) ?? name
    }
}

/// Reads whether an XCTest test failed, from the teardown block.
final class TestRunObserver: @unchecked Sendable {
    // XCTestCase is not Sendable; XCTest runs setUp, the test and its teardown blocks on the
    // same thread, which is the only place `failed` is read.
    private let testCase: XCTestCase
    init(_ testCase: XCTestCase) { self.testCase = testCase }
    var failed: Bool { (testCase.testRun?.totalFailureCount ?? 0) > 0 }
}
