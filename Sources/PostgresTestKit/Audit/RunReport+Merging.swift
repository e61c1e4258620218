extension RunReport.Snapshot {
    /// The reports of several processes of one run (`swift test --parallel`, CI shards) as
    /// one: counters and times summed, findings and kept databases joined, the run failing
    /// when any process's did. The timelines stay apart (``TimelineDocument`` joins them).
    package static func merged(_ reports: [RunReport.Snapshot]) -> RunReport.Snapshot {
        var total = RunReport.Snapshot()
        for report in reports {
            total.databasesCreated += report.databasesCreated
            total.databasesFromPool += report.databasesFromPool
            total.databasesRecycled += report.databasesRecycled
            total.databasesReset += report.databasesReset
            total.databasesAdopted += report.databasesAdopted
            total.databasesKept += report.databasesKept
            total.databasesDropped += report.databasesDropped
            total.templatesBuilt += report.templatesBuilt
            total.templatesReused += report.templatesReused
            total.setupMilliseconds += report.setupMilliseconds
            total.testMilliseconds += report.testMilliseconds
            total.preparedAheadMilliseconds += report.preparedAheadMilliseconds
            total.breakdown = total.breakdown + report.breakdown
            total.violations += report.violations
            total.kept += report.kept
            total.failsRun = total.failsRun || report.failsRun
            total.slowServer = total.slowServer ?? report.slowServer
        }
        return total
    }
}
