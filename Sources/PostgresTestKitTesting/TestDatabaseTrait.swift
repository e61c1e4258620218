import PostgresTestKit
import Synchronization
import Testing

/// A Swift Testing trait that gives every test — and every case of a parameterized test — its
/// own database, reachable as `PostgresTestDatabase.current`.
///
/// Use it on a suite (it applies to every test inside, recursively) or on one test:
/// `@Suite(.testDatabase(.app))`. Tests run in parallel by default; each has its own clone.
/// A failure to provide the database fails that test with the toolkit's error. A test that
/// records an issue counts as failed for `PGTESTKIT_KEEP=failed`.
public struct TestDatabaseTrait: TestTrait, SuiteTrait, TestScoping {
    /// The manager that provides the databases.
    public let manager: TestDatabaseManager
    /// Own database per test (default) or a rolled-back transaction on a shared clone.
    public let isolation: Isolation

    /// Applies to every test of a suite, nested suites included.
    public var isRecursive: Bool { true }

    /// Prepares the manager before any test runs (Swift Testing calls this after it found the
    /// tests and before it starts them): the session opens and the warm pool's clones are
    /// adopted then, so a suite's parallel burst pops ready clones instead of waiting. A
    /// template that must be built is built beside the run (not waited for here); a failure
    /// is left to the first acquire, which reports it. A test its own condition switches off
    /// prepares nothing.
    public func prepare(for test: Test) async throws {
        // A test switched off by its own condition (`.enabled(if:)`, `.disabled()`) costs nothing.
        for case let condition as ConditionTrait in test.traits {
            guard (try? await condition.evaluate()) == true else { return }
        }
        await manager.prepareAhead()
    }

    /// Acquires the test's database, runs the test with it as `PostgresTestDatabase.current`, and
    /// releases it (kept under `PGTESTKIT_KEEP=failed` when the test recorded an issue).
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else {
            // The suite itself: start preparing now (template, pool), while Swift Testing is
            // still setting up its tests; each test gets its database below.
            let warmUp = Task { try? await manager.prepare() }
            try await function()
            _ = await warmUp.value
            return
        }
        // The suite groups the test's row in the timeline: the module and the suites the
        // test is nested in (its ID's name components before its own name); `nil` at top level.
        let components = test.id.nameComponents
        let suites = components.lastIndex(of: test.name).map { components[..<$0] } ?? components.dropLast()
        let suite = suites.isEmpty ? nil : test.id.moduleName + "." + suites.joined(separator: "/")
        let database = try await manager.acquire(testName: test.name, suite: suite, isolation: isolation)
        let failed = Mutex(false)
        let observer: IssueHandlingTrait = .compactMapIssues { issue in
            failed.withLock { $0 = true }
            return issue
        }
        do {
            try await observer.provideScope(for: test, testCase: testCase) {
                try await PostgresTestDatabase.$current.withValue(database) { try await function() }
            }
        } catch {
            try await manager.release(database, testFailed: true)
            throw error
        }
        try await manager.release(database, testFailed: failed.withLock { $0 })
    }
}

extension Trait where Self == TestDatabaseTrait {
    /// Gives each test its own database from `manager` — or, with `isolation: .transaction`,
    /// its own rolled-back transaction on a clone the suite shares.
    public static func testDatabase(_ manager: TestDatabaseManager, isolation: Isolation = .database) -> Self {
        TestDatabaseTrait(manager: manager, isolation: isolation)
    }
}
