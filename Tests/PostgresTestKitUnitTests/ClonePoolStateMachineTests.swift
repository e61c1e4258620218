import Testing
@testable import PostgresTestKit

/// The pool's decisions, without a server: leases, fills, verdicts, bursts, the ceiling and
/// the close. Clones are plain names here.
@Suite("ClonePoolStateMachine")
struct ClonePoolStateMachineTests {
    typealias Machine = ClonePoolStateMachine<String>

    /// A machine with `ready` clones made by one fill.
    static func filled(target: Int = 2, ceiling: Int = 8, ready: [String]) -> Machine {
        var machine = Machine(target: target, ceiling: ceiling)
        Self.holds(machine.startFill())
        for clone in ready {
            Self.holds(machine.nextCreate())
            Self.holds(isKept(machine.created(clone)))
        }
        Self.holds(machine.nextCreate() == (ready.count < target))
        return machine
    }

    /// `#expect` on a value a mutating call returned (the macro cannot take the call itself).
    static func holds(_ value: Bool, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(value, comment, sourceLocation: sourceLocation)
    }

    static func isKept(_ action: Machine.ArrivalAction) -> Bool {
        if case .keep = action { return true }
        return false
    }

    static func handedOut(_ action: Machine.LeaseAction) -> String? {
        if case .handOut(let clone) = action { return clone }
        return nil
    }

    @Test func aFillMakesClonesUpToTheTargetOneFillAtATime() {
        var machine = Machine(target: 2, ceiling: 8)
        Self.holds(machine.startFill())
        Self.holds(!machine.startFill(), "one fill at a time")
        Self.holds(machine.nextCreate())
        _ = machine.created("p1")
        Self.holds(machine.nextCreate())
        _ = machine.created("p2")
        Self.holds(!machine.nextCreate(), "full: the fill ends")
        #expect(!machine.filling)
        Self.holds(!machine.startFill(), "nothing to fill")
        #expect(machine.ready == ["p1", "p2"])
    }

    /// Adopted clones are handed out one by one as each is brought back: a lease meanwhile
    /// waits for the oldest; no fill runs for them; one that cannot be brought back frees its
    /// place; once closed, none is brought back.
    @Test func adoptedClonesAreLeasedAsEachComesBack() {
        var machine = Machine(target: 2, ceiling: 8)
        Self.holds(machine.adopting("a1"))
        Self.holds(machine.adopting("a2"))
        Self.holds(!machine.adopting("a1"), "a clone is brought back once")
        guard case .awaitVerdict(let first) = machine.lease() else {
            Issue.record("a lease waits for the adoption under way")
            return
        }
        #expect(first == "a1")
        Self.holds(!machine.startFill(), "two on their way back: the pool is full")
        Self.holds(Self.isKept(machine.judged("a2", "a2")))
        Self.holds(Self.handedOut(machine.lease()) == "a2", "the one back first goes first")
        _ = machine.judged("a1", nil)   // could not be brought back
        Self.holds(machine.startFill(), "its place is made anew")
        var closed = Machine(target: 2, ceiling: 8)
        _ = closed.close()
        Self.holds(!closed.adopting("a3"))
    }

    /// Back-to-back tests: the clone out with a test comes back to be judged, so no fill runs
    /// meanwhile — a clone made then would find the pool full when the verdict came back, and
    /// be dropped (236 of 10,000 tests did so before). Its twin: a clone that cannot come back
    /// (no WAL window) is replaced at once.
    @Test func aCloneOutWithATestCountsAsComingBackAndNoFillRacesIt() {
        var machine = Self.filled(ready: ["p1", "p2"])
        Self.holds(Self.handedOut(machine.lease()) == "p1")
        machine.lent("p1")
        Self.holds(!machine.startFill(), "one ready and one out that comes back: the pool is full")
        machine.lendingEnded("p1")
        Self.holds(machine.released("p1", recyclable: true) == .judge)
        Self.holds(!machine.startFill(), "one ready and one being judged")
        Self.holds(Self.isKept(machine.judged("p1", "p1")), "the judged clone finds room: nothing was made in its place")
        #expect(machine.ready == ["p1", "p2"] && machine.out.isEmpty)

        var twin = Self.filled(ready: ["p1", "p2"])
        Self.holds(Self.handedOut(twin.lease()) == "p1")   // no window: it will not come back
        Self.holds(twin.startFill(), "a clone that cannot come back is replaced")
    }

    @Test func aCloneThatWillNotComeBackFreesItsPlace() {
        var machine = Self.filled(ready: ["p1", "p2"])
        _ = machine.lease(); machine.lent("p1")
        _ = machine.lease(); machine.lent("p2")
        Self.holds(!machine.startFill())
        machine.lendingEnded("p1")   // its acquire failed, or it is kept
        Self.holds(machine.startFill(), "its place is made anew")
        machine.lendingEnded("p1"); machine.lendingEnded("p2")
        #expect(machine.out.isEmpty, "an end reported twice counts once")
    }

    @Test func leasesHandOutInOrderThenMiss() {
        var machine = Self.filled(ready: ["p1", "p2"])
        Self.holds(Self.handedOut(machine.lease()) == "p1")
        Self.holds(Self.handedOut(machine.lease()) == "p2")
        guard case .miss = machine.lease() else { Issue.record("an empty pool with nothing being judged misses"); return }
    }

    @Test func aLeaseWaitsForTheOldestVerdictWhenNoneIsReady() {
        var machine = Self.filled(ready: ["p1", "p2"])
        _ = machine.lease(); _ = machine.lease()
        Self.holds(machine.released("p1", recyclable: true) == .judge)
        Self.holds(machine.released("p2", recyclable: true) == .judge)
        guard case .awaitVerdict(let name) = machine.lease() else { Issue.record("must wait for a verdict"); return }
        #expect(name == "p1")
        Self.holds(Self.isKept(machine.judged("p1", "p3")))   // recycled under a new name
        Self.holds(Self.handedOut(machine.lease()) == "p3")
    }

    @Test func cloneBeingJudgedCountAsOnTheirWayBack() {
        var machine = Self.filled(ready: ["p1", "p2"])
        _ = machine.lease()
        Self.holds(machine.released("p1", recyclable: true) == .judge)
        Self.holds(!machine.startFill(), "one ready + one being judged = the target")
        _ = machine.judged("p1", nil)   // dropped: its place is made anew
        Self.holds(machine.startFill())
    }

    @Test func aRecycledCloneGoesFirstInLineButNeverPastTheTarget() {
        var machine = Self.filled(ready: ["p1", "p2"])
        _ = machine.lease()
        Self.holds(machine.released("p1", recyclable: true) == .judge)
        Self.holds(Self.isKept(machine.judged("p1", "p3")))
        #expect(machine.ready == ["p3", "p2"])
        // A second release whose verdict comes back while the pool is full is discarded.
        var full = Self.filled(target: 1, ready: ["q1"])
        Self.holds(full.released("q9", recyclable: true) == .judge)   // a clone made on demand
        guard case .discard(let surplus) = full.judged("q9", "q10") else { Issue.record("over the target: discarded"); return }
        #expect(surplus == "q10")
        #expect(full.ready == ["q1"])
    }

    @Test func aReleaseThatCannotComeBackIsDropped() {
        var machine = Self.filled(ready: ["p1"])
        Self.holds(machine.released("p1", recyclable: false) == .drop, "a leaked session or a finding")
        Self.holds(machine.released("p2", recyclable: true) == .judge)
        Self.holds(machine.released("p2", recyclable: true) == .drop, "already being judged")
    }

    @Test func burstsGrowTheTargetUpToTheCeiling() {
        var machine = Machine(target: 2, ceiling: 4)
        Self.holds(!machine.learn(burst: 1))
        Self.holds(machine.learn(burst: 3))
        #expect(machine.target == 3)
        Self.holds(machine.learn(burst: 32))
        #expect(machine.target == 4, "the ceiling")
        Self.holds(!machine.learn(burst: 32))
        #expect(Machine(target: 6, ceiling: 2).ceiling == 6, "the ceiling is never below the size")
    }

    @Test func closeDuringAFillDiscardsWhatArrivesAfter() {
        var machine = Machine(target: 2, ceiling: 8)
        Self.holds(machine.startFill())
        Self.holds(machine.nextCreate())
        _ = machine.created("p1")
        Self.holds(machine.nextCreate())          // a create under way…
        Self.holds(machine.close() == ["p1"])     // …when the pool closes
        guard case .discard(let late) = machine.created("p2") else { Issue.record("a clone made after the close is discarded"); return }
        #expect(late == "p2")
        #expect(!machine.filling)
        guard case .miss = machine.lease() else { Issue.record("a closed pool hands nothing out"); return }
        Self.holds(!machine.startFill())
        Self.holds(machine.released("p9", recyclable: true) == .drop)
    }

    @Test func closeWhileAVerdictIsUnderWayDiscardsItsClone() {
        var machine = Self.filled(ready: ["p1", "p2"])
        _ = machine.lease()
        Self.holds(machine.released("p1", recyclable: true) == .judge)
        Self.holds(machine.close() == ["p2"])
        guard case .discard(let clone) = machine.judged("p1", "p3") else { Issue.record("a verdict after the close is discarded"); return }
        #expect(clone == "p3")
        #expect(machine.judging.isEmpty)
    }

    @Test func aFailedCreateEndsTheFill() {
        var machine = Machine(target: 2, ceiling: 8)
        Self.holds(machine.startFill())
        Self.holds(machine.nextCreate())
        machine.createFailed()
        #expect(!machine.filling)
        Self.holds(machine.startFill(), "the next refill tries again")
    }
}
