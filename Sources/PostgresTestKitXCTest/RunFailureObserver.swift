import Foundation
import PostgresTestKit
import Synchronization
import XCTest

/// Shuts the run down when XCTest's bundle finishes — the cleanup, then the report — and
/// turns a run-level failure (a write the server log showed that no test can be blamed for)
/// into a failed XCTest test, which XCTest prints and counts in its exit status.
///
/// Registered by the first `acquire(for:)` of a process. Where it cannot record the failure,
/// it leaves the shutdown to the process exit, which sets the exit status instead.
final class RunFailureObserver: NSObject, XCTestObservation {
    private static let registered = Mutex(false)

    /// Registers the observer once per process, on the main actor, where XCTest delivers
    /// its observations.
    static func registerOnce() async {
        #if !canImport(ObjectiveC)   // swift-corelibs-xctest: tests can be made from closures
        guard registered.withLock({ state in defer { state = true }; return !state }) else { return }
        await MainActor.run {
            XCTestObservationCenter.shared.addTestObserver(RunFailureObserver())
        }
        #endif
    }

    /// The suite that finished last: when the bundle finishes, the root suite, whose run
    /// XCTest's exit status is computed from.
    private var lastFinishedSuite: XCTestSuite?

    /// Remembers the suite: the last one to finish is the root.
    func testSuiteDidFinish(_ testSuite: XCTestSuite) {
        lastFinishedSuite = testSuite
    }

    /// Cleans up and prints the report; a failing run becomes one failed test, added to the
    /// root suite's run so that XCTest's exit status counts it.
    func testBundleDidFinish(_ testBundle: Bundle) {
        #if !canImport(ObjectiveC)
        guard let rootRun = lastFinishedSuite?.testRun as? XCTestSuiteRun else { return }
        guard let failure = ProcessShutdown.shared.shutDown(.testsFinished) else { return }
        let check = PostgresTestKitRun(name: "serverLogShowsNoWriteThatNoTestCanBeBlamedFor") { _ in
            XCTFail(failure)
        }
        check.run()
        if let run = check.testRun { rootRun.addTestRun(run) }
        #endif
    }
}

#if !canImport(ObjectiveC)
/// The run-level check that fails after the tests: one synthetic XCTest test.
final class PostgresTestKitRun: XCTestCase {}
#endif
