import Logging
import Synchronization

/// Collects the violations of one manager and reports each as it arrives.
public final class ViolationRecorder: Sendable {
    private let violations = Mutex<[LifecycleViolation]>([])
    private let logger: Logger
    /// The policy the recorder applies.
    public let policy: AuditPolicy

    /// A recorder with a policy and a logger.
    public init(policy: AuditPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// Every violation recorded so far.
    public var all: [LifecycleViolation] { violations.withLock { $0 } }

    /// Records a violation, logs it, and under `.fail` returns the error to throw.
    @discardableResult
    public func record(_ violation: LifecycleViolation) -> TestKitError? {
        guard policy != .off else { return nil }
        violations.withLock { $0.append(violation) }
        RunReport.shared.add(violation)
        logger.warning("lifecycle violation: \(violation)")
        guard policy == .fail else { return nil }
        return TestKitError(.lifecycleViolation, "premature write flagged: \(violation)")
    }
}
