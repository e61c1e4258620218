/// The PostgreSQL type OIDs the toolkit binds and decodes.
public struct PostgresType: RawRepresentable, Hashable, Sendable {
    /// The type's OID in `pg_type`.
    public let rawValue: UInt32
    /// Wraps a type OID.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Let the server infer the type from context.
    public static let unspecified = PostgresType(rawValue: 0)
    /// `boolean`.
    public static let bool = PostgresType(rawValue: 16)
    /// `bytea` (binary strings).
    public static let bytea = PostgresType(rawValue: 17)
    /// `bigint`.
    public static let int8 = PostgresType(rawValue: 20)
    /// `smallint`.
    public static let int2 = PostgresType(rawValue: 21)
    /// `integer`.
    public static let int4 = PostgresType(rawValue: 23)
    /// `text`.
    public static let text = PostgresType(rawValue: 25)
    /// `real`.
    public static let float4 = PostgresType(rawValue: 700)
    /// `double precision`.
    public static let float8 = PostgresType(rawValue: 701)
    /// `date`.
    public static let date = PostgresType(rawValue: 1082)
    /// `timestamp without time zone`.
    public static let timestamp = PostgresType(rawValue: 1114)
    /// `timestamp with time zone`.
    public static let timestamptz = PostgresType(rawValue: 1184)
    /// `numeric`.
    public static let numeric = PostgresType(rawValue: 1700)
}
