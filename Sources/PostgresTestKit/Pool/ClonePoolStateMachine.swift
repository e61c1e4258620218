/// The clone pool's decisions as a pure value, in the manner of postgres-nio's
/// `PoolStateMachine`: each event (a lease, a create under way or done, a release, a verdict,
/// a burst learned, the close) mutates the state and returns what the pool must do; the pool
/// (``ClonePool``) does it — the creates, verdicts, drops and connections — and reports back.
/// Unit-tested without a server.
///
/// Its invariants: a clone is in at most one place (ready, or being judged); the pool never
/// holds more ready clones than its target; the target grows with the bursts it learns, never
/// past the ceiling; one fill runs at a time, and counts clones being judged, and those out
/// with tests that can come back, as on their way back; once closed, nothing is handed out or kept, and every clone reported to it is
/// discarded.
package struct ClonePoolStateMachine<Clone: Sendable>: Sendable {
    /// What a lease gets.
    package enum LeaseAction {
        /// A ready clone: hand it out.
        case handOut(Clone)
        /// None is ready, but this released clone is being judged (or this adopted one brought
        /// back): wait for it, then lease again.
        case awaitVerdict(String)
        /// None is ready or coming back: the caller makes a clone on demand.
        case miss
    }

    /// What to do with a released clone.
    package enum ReleaseAction: Equatable {
        /// Judge it (recycle or reset it into the pool, or drop it).
        case judge
        /// Drop it.
        case drop
    }

    /// What to do with a clone a create or a verdict made ready.
    package enum ArrivalAction {
        /// It is in the pool now.
        case keep
        /// The pool is full or closed: close its connection and drop it.
        case discard(Clone)
    }

    /// The clones ready now, the next one to hand out first.
    package private(set) var ready: [Clone] = []
    /// Released clones being judged, and adopted ones being brought back, oldest first.
    package private(set) var judging: [String] = []
    /// Clones out with tests that will come back to be judged (they have a WAL window): a
    /// fill counts them as on their way back, so that it does not make a clone that a verdict
    /// would then find surplus to a full pool.
    package private(set) var out: Set<String> = []
    /// How many ready clones the pool aims at.
    package private(set) var target: Int
    /// The most a learned burst grows the target to.
    package let ceiling: Int
    /// Whether a fill is under way.
    package private(set) var filling = false
    /// Whether the pool is closed.
    package private(set) var closed = false

    /// A pool that aims at `target` ready clones, growing with bursts up to `ceiling`.
    package init(target: Int, ceiling: Int) {
        self.target = target
        self.ceiling = max(target, ceiling)
    }

    /// A test asks for a clone.
    package mutating func lease() -> LeaseAction {
        guard !closed else { return .miss }
        if !ready.isEmpty { return .handOut(ready.removeFirst()) }
        if let oldest = judging.first { return .awaitVerdict(oldest) }
        return .miss
    }

    /// Whether a fill should start now: none runs, the pool is open, and the ready clones plus
    /// those being judged fall short of the target. When it says yes, a fill is under way
    /// until ``nextCreate()`` says no.
    package mutating func startFill() -> Bool {
        guard !filling, shortOfTarget else { return false }
        filling = true
        return true
    }

    /// Within a fill, before each create: whether to make one more (else the fill ends).
    package mutating func nextCreate() -> Bool {
        precondition(filling, "nextCreate() outside a fill")
        if shortOfTarget { return true }
        filling = false
        return false
    }

    /// A create of the fill failed: the fill ends (acquires make clones on demand meanwhile).
    package mutating func createFailed() {
        filling = false
    }

    /// A fill's create finished with `clone`.
    package mutating func created(_ clone: Clone) -> ArrivalAction {
        guard !closed else {
            filling = false
            return .discard(clone)
        }
        ready.append(clone)
        return .keep
    }

    /// A test gave back clone `name`; `recyclable` when it has a WAL window and nothing about
    /// the release (a leaked session, a finding) forbids its return.
    package mutating func released(_ name: String, recyclable: Bool) -> ReleaseAction {
        guard recyclable, !closed, !judging.contains(name) else { return .drop }
        judging.append(name)
        return .judge
    }

    /// A ready clone an earlier process left, claimed and proven unchanged, is being brought
    /// back (connected, its hooks run): leases wait for it as for a verdict, so that the first
    /// tests take each adopted clone as soon as it is back rather than after all of them.
    /// Returns whether to bring it back (not once the pool is closed).
    package mutating func adopting(_ name: String) -> Bool {
        guard !closed, !judging.contains(name) else { return false }
        judging.append(name)
        return true
    }

    /// The clone `name`, which can come back, went out with a test (a lease's, or one made on
    /// demand for it).
    package mutating func lent(_ name: String) {
        out.insert(name)
    }

    /// A clone that went out with a test is back (given back, to be judged or dropped) or will
    /// not come back (its acquire failed, or it is kept).
    package mutating func lendingEnded(_ name: String) {
        out.remove(name)
    }

    /// The verdict on `name` is in: `clone` when it came back fit for another test (recycled
    /// or reset), `nil` when it is dropped.
    package mutating func judged(_ name: String, _ clone: Clone?) -> ArrivalAction {
        judging.removeAll { $0 == name }
        guard let clone else { return .keep }
        // Never more ready clones (each an open connection) than the target.
        guard !closed, ready.count < target else { return .discard(clone) }
        ready.insert(clone, at: 0)   // first in line: it is warm
        return .keep
    }

    /// `burst` acquires came at once and missed: aim at that many from now on (up to the
    /// ceiling). Returns whether the target grew.
    @discardableResult
    package mutating func learn(burst: Int) -> Bool {
        let grown = min(ceiling, max(target, burst))
        guard grown > target else { return false }
        target = grown
        return true
    }

    /// Closes the pool: returns the ready clones, which the caller closes and drops. Clones
    /// still coming (a create, a verdict) are discarded when they arrive.
    package mutating func close() -> [Clone] {
        closed = true
        defer { ready.removeAll() }
        return ready
    }

    /// Whether the pool wants more clones than it has ready and coming back.
    package var wantsMore: Bool { shortOfTarget }

    private var shortOfTarget: Bool { !closed && ready.count + judging.count + out.count < target }
}
