import Testing
@testable import PostgresTestKit

/// The lifecycle order holds under concurrent callers: the check and the move are one step.
@Suite("PhaseLog")
struct PhaseLogTests {
    @Test func ofManyCallersEnteringTheSamePhaseAtOnceExactlyOneMoves() async {
        for _ in 0..<50 {
            let log = PhaseLog(database: "db")
            try? log.enter(.ready)
            let moved = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask { (try? log.enter(.releasing)) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(moved == 1, "\(moved) callers entered 'releasing' from 'ready'")
            #expect(log.events.filter { $0.phase == .releasing }.count == 1)
        }
    }

    @Test func anIllegalStepIsRefusedNamingBothPhases() throws {
        let log = PhaseLog(database: "db")
        do {
            try log.enter(.dropped)
            Issue.record("connecting → dropped must be refused")
        } catch let error as TestKitError {
            #expect(error.message.contains("'dropped'") && error.message.contains("'connecting'"))
        }
    }

    /// A database's history ends in one of three ways, and nothing follows any of them.
    @Test(arguments: [Phase.dropped, .recycled, .kept, .rolledBack])
    func aReleaseEndsInOneFinalPhase(_ end: Phase) throws {
        let log = PhaseLog(database: "db")
        try log.enter(.ready)
        try log.enter(.releasing)
        try log.enter(end)
        #expect(log.current == end)
        #expect(log.events.last?.duration == .zero)
        for next in Phase.allCases {
            #expect(throws: TestKitError.self, "\(end) → \(next) must be refused") { try log.enter(next) }
        }
    }

    @Test func aDatabaseInUseCannotBeMarkedKeptOrRolledBack() {
        let log = PhaseLog(database: "db")
        try? log.enter(.ready)
        #expect(throws: TestKitError.self) { try log.enter(.kept) }
        #expect(throws: TestKitError.self) { try log.enter(.rolledBack) }
    }
}
