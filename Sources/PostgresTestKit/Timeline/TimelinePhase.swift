/// One kind of bar in the timeline: a part of a test database's life (set-up, the test,
/// release, verdict, drop) or of a template's build.
///
/// The raw value is the stable name in the JSON report; ``code`` is the short CSS class the
/// picture uses, so that 3,000 rows stay small.
package enum TimelinePhase: String, Sendable, Codable, CaseIterable {
    /// Waiting for the manager's preparation: the template's build or reuse, the pool's adoption.
    case preparation
    /// Taking a clone from the pool: a pop, or waiting for a verdict under way.
    case poolLease
    /// Waiting for an admin lane before `CREATE DATABASE` (a burst of clones made on demand).
    case laneWait
    /// `CREATE DATABASE … TEMPLATE` of a clone made on demand.
    case create
    /// Connecting to a clone made on demand.
    case connect
    /// Connect hooks and per-test seeders (for a pop: the check that its session is alive).
    case hooks
    /// The test itself: from the database being ready to its release.
    case test
    /// Release: waiting for sessions still connected to the database.
    case leakCheck
    /// Release: the run audit's scan of the statement log.
    case logScan
    /// Release: handing the clone to its verdict or its drop.
    case handOff
    /// The verdict on a released clone: recycled, reset or dropped (the row's outcome says which).
    case verdict
    /// `DROP DATABASE`.
    case drop
    /// A template build: fingerprint, advisory lock, and the scratch database's creation.
    case templateLock
    /// A template build: connecting to the scratch database and running the connect hooks.
    case templateHooks
    /// A template build: the migrations.
    case migrate
    /// A template build: the template seeders.
    case seed
    /// A template build: the recycling checks and the publishing rename.
    case publish

    /// The short CSS class of its bars.
    package var code: String {
        switch self {
        case .preparation: "pr"
        case .poolLease: "pl"
        case .laneWait: "lw"
        case .create: "cr"
        case .connect: "cn"
        case .hooks: "hk"
        case .test: "te"
        case .leakCheck: "lc"
        case .logScan: "ls"
        case .handOff: "ho"
        case .verdict: "vd"
        case .drop: "dr"
        case .templateLock: "tl"
        case .templateHooks: "th"
        case .migrate: "mg"
        case .seed: "sd"
        case .publish: "pb"
        }
    }

    /// What the legend and the tooltips call it.
    package var label: String {
        switch self {
        case .preparation: "waiting for the template (preparation)"
        case .poolLease: "pool lease (pop)"
        case .laneWait: "lane wait"
        case .create: "create database"
        case .connect: "connect"
        case .hooks: "hooks and seeding"
        case .test: "the test"
        case .leakCheck: "release: leak check"
        case .logScan: "release: log scan"
        case .handOff: "release: hand-off"
        case .verdict: "verdict"
        case .drop: "drop"
        case .templateLock: "template: fingerprint and lock"
        case .templateHooks: "template: connect and hooks"
        case .migrate: "migrate"
        case .seed: "seed"
        case .publish: "publish"
        }
    }

    /// The fill colour of its bars.
    package var colour: String {
        switch self {
        case .preparation: "#c9c2e8"
        case .poolLease: "#7fc8a9"
        case .laneWait: "#f3d27a"
        case .create: "#e8954a"
        case .connect: "#d4b06a"
        case .hooks: "#b58fd6"
        case .test: "#5b8fd9"
        case .leakCheck: "#9aa5b1"
        case .logScan: "#7d8a99"
        case .handOff: "#bcc6d0"
        case .verdict: "#4caf7a"
        case .drop: "#d9635b"
        case .templateLock: "#c9c2e8"
        case .templateHooks: "#b58fd6"
        case .migrate: "#8a6bc9"
        case .seed: "#5fa8a0"
        case .publish: "#9bc46a"
        }
    }
}
