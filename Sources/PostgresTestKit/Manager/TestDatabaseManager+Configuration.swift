import Foundation

extension TestDatabaseManager {
    /// A manager's settings as one value, with one rule for every one of them: the
    /// environment's value (`PGTESTKIT_*`) wins over the code's, and the code's over the
    /// default — so a CI job can tighten or tune every manager of a suite without touching it.
    public struct Configuration: Sendable, Equatable {
        /// The database name prefix (`PGTESTKIT_PREFIX`; default `pgtk`).
        public var prefix: String?
        /// The violation policy (`PGTESTKIT_AUDIT`; default `.fail` under `CI=true`, else `.warn`).
        public var audit: AuditPolicy?
        /// Which databases survive their test (`PGTESTKIT_KEEP`; default `.none`).
        public var keep: KeepPolicy?
        /// Ready clones kept ahead (`PGTESTKIT_POOL_SIZE`; default 2).
        public var poolSize: Int?
        /// Whether unchanged clones are recycled (`PGTESTKIT_RECYCLE=0` turns it off; default on).
        public var recycle: Bool?
        /// The most ready clones a learned burst grows the pool to (`PGTESTKIT_POOL_MAX`; default
        /// an eighth of the server's `max_connections`, at most 32).
        public var poolMax: Int?
        /// Whether the pool's ready clones outlive the process, for the next one to adopt
        /// (`PGTESTKIT_WARM_POOL=0` turns it off; default on where clones are recycled).
        public var warmPool: Bool?
        /// The most WAL, in MB, read to prove a ready clone unchanged before adopting it
        /// (`PGTESTKIT_ADOPT_MAX_WAL`; default 256): past that it is dropped, as the read would
        /// cost more than a new clone.
        public var adoptMaxWAL: Int?

        /// Settings; `nil` leaves one to the environment and then the default.
        public init(
            prefix: String? = nil, audit: AuditPolicy? = nil, keep: KeepPolicy? = nil, poolSize: Int? = nil, recycle: Bool? = nil,
            poolMax: Int? = nil, warmPool: Bool? = nil, adoptMaxWAL: Int? = nil
        ) {
            self.adoptMaxWAL = adoptMaxWAL
            self.poolMax = poolMax
            self.warmPool = warmPool
            self.prefix = prefix
            self.audit = audit
            self.keep = keep
            self.poolSize = poolSize
            self.recycle = recycle
        }

        /// What `environment` sets; `nil` where it sets nothing, or nothing readable.
        package static func fromEnvironment(_ environment: [String: String]) -> Configuration {
            ToolkitSettings(environment: environment).manager
        }

        /// These settings with every one `overrides` sets taken from it.
        public func overridden(by overrides: Configuration) -> Configuration {
            Configuration(
                prefix: overrides.prefix ?? prefix, audit: overrides.audit ?? audit, keep: overrides.keep ?? keep,
                poolSize: overrides.poolSize ?? poolSize, recycle: overrides.recycle ?? recycle, poolMax: overrides.poolMax ?? poolMax,
                warmPool: overrides.warmPool ?? warmPool, adoptMaxWAL: overrides.adoptMaxWAL ?? adoptMaxWAL)
        }
    }
}
