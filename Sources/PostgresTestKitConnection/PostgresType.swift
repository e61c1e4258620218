/// The PostgreSQL type OIDs the toolkit binds and decodes.
package struct PostgresType: RawRepresentable, Hashable, Sendable {
    /// The type's OID in `pg_type`.
    package let rawValue: UInt32
    /// Wraps a type OID.
    package init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Let the server infer the type from context.
    package static let unspecified = PostgresType(rawValue: 0)
    /// `boolean`.
    package static let bool = PostgresType(rawValue: 16)
    /// `bytea` (binary strings).
    package static let bytea = PostgresType(rawValue: 17)
    /// `bigint`.
    package static let int8 = PostgresType(rawValue: 20)
    /// `smallint`.
    package static let int2 = PostgresType(rawValue: 21)
    /// `integer`.
    package static let int4 = PostgresType(rawValue: 23)
    /// `text`.
    package static let text = PostgresType(rawValue: 25)
    /// `real`.
    package static let float4 = PostgresType(rawValue: 700)
    /// `double precision`.
    package static let float8 = PostgresType(rawValue: 701)
    /// `date`.
    package static let date = PostgresType(rawValue: 1082)
    /// `timestamp without time zone`.
    package static let timestamp = PostgresType(rawValue: 1114)
    /// `timestamp with time zone`.
    package static let timestamptz = PostgresType(rawValue: 1184)
    /// `numeric`.
    package static let numeric = PostgresType(rawValue: 1700)
}
