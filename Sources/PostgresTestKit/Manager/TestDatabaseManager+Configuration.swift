import Foundation

extension TestDatabaseManager {
    /// A manager's settings as one value, with one rule for every one of them: the
    /// environment's value (`PGTESTKIT_*`) wins over the code's, and the code's over the
    /// default — so a CI job can tighten or tune every manager of a suite without touching it.
    package struct Configuration: Sendable, Equatable {
        /// The database name prefix (`PGTESTKIT_PREFIX`; default `pgtk`).
        package var prefix: String?
        /// The violation policy (`PGTESTKIT_AUDIT`; default `.fail` under `CI=true`, else `.warn`).
        package var audit: AuditPolicy?
        /// Which databases survive their test (`PGTESTKIT_KEEP`; default `.none`).
        package var keep: KeepPolicy?
        /// Ready clones kept ahead (`PGTESTKIT_POOL_SIZE`; default 2).
        package var poolSize: Int?
        /// Whether unchanged clones are recycled (`PGTESTKIT_RECYCLE=0` turns it off; default on).
        package var recycle: Bool?
        /// The most ready clones a learned burst grows the pool to (`PGTESTKIT_POOL_MAX`; default
        /// an eighth of the server's `max_connections`, at most 32).
        package var poolMax: Int?
        /// Whether the pool's ready clones outlive the process, for the next one to adopt
        /// (`PGTESTKIT_WARM_POOL=0` turns it off; default on where clones are recycled).
        package var warmPool: Bool?
        /// The most WAL, in MB, read to prove a ready clone unchanged before adopting it
        /// (`PGTESTKIT_ADOPT_MAX_WAL`; default 256): past that it is dropped, as the read would
        /// cost more than a new clone.
        package var adoptMaxWAL: Int?

        /// Settings; `nil` leaves one to the environment and then the default.
        package init(
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

        /// These settings with every one `overrides` sets taken from it.
        package func overridden(by overrides: Configuration) -> Configuration {
            Configuration(
                prefix: overrides.prefix ?? prefix, audit: overrides.audit ?? audit, keep: overrides.keep ?? keep,
                poolSize: overrides.poolSize ?? poolSize, recycle: overrides.recycle ?? recycle, poolMax: overrides.poolMax ?? poolMax,
                warmPool: overrides.warmPool ?? warmPool, adoptMaxWAL: overrides.adoptMaxWAL ?? adoptMaxWAL)
        }
    }
}
