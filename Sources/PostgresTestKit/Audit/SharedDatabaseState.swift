/// What the shared catalogs hold for one database, as ``WalWitness/sharedState(of:)`` reads
/// it: changes there (`ALTER DATABASE … SET`, `GRANT … ON DATABASE`, `COMMENT ON DATABASE`,
/// a connection limit) carry no database OID in the WAL, so they are compared instead.
package struct SharedDatabaseState: Sendable, Hashable {
    /// The database's OID (its relations' WAL records carry it).
    package let oid: UInt32
    /// Its `pg_database` row (name and frozen-xid horizons apart), per-database settings,
    /// security labels and subscriptions, as one comparable text.
    package let catalogs: String
    /// Its comment: the owner marker, which the toolkit itself rewrites.
    package let comment: String?
    /// Prepared transactions and replication slots of the database (they outlive sessions).
    package let lingering: Int
    /// The WAL insert position when it was read: a mark, as ``WalWitness/mark()`` takes.
    package let lsn: WalLSN
}
