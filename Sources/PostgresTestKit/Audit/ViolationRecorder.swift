import Logging
import Synchronization

/// Collects the violations of one manager and reports each as it arrives.
package final class ViolationRecorder: Sendable {
    private let violations = Mutex<[LifecycleViolation]>([])
    private let logger: Logger
    /// The policy the recorder applies.
    package let policy: AuditPolicy

    /// A recorder with a policy and a logger.
    package init(policy: AuditPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// Every violation recorded so far.
    package var all: [LifecycleViolation] { violations.withLock { $0 } }

    /// Records a violation, logs it, and under `.fail` returns the error to throw.
    @discardableResult
    package func record(_ violation: LifecycleViolation) -> TestKitError? {
        guard policy != .off else { return nil }
        violations.withLock { $0.append(violation) }
        RunReport.shared.add(violation)
        logger.warning("lifecycle violation: \(violation)")
        guard policy == .fail else { return nil }
        return TestKitError(.lifecycleViolation, "premature write flagged: \(violation)")
    }
}
