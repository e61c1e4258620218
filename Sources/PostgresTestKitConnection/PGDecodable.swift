import Foundation

/// A Swift type that a column value (in PostgreSQL's text format) can be decoded into.
///
/// `Optional` conforms when its wrapped type does, and decodes SQL `NULL` as `nil`; a
/// non-optional type throws a ``PGError`` with code `.decoding` on `NULL`. Conform a type of
/// your own by parsing the column's text form.
public protocol PGDecodable: Sendable {
    /// Decodes a non-`NULL` value given in PostgreSQL's text output format; `nil` when the text
    /// is not a value of this type (the row then throws, naming the column and its type).
    static func decode(text: String) -> Self?
}

/// A type that decodes SQL `NULL` too: `Optional`.
package protocol PGNullDecodable {
    /// The value that stands for SQL `NULL`.
    static var null: Self { get }
}

extension PGDecodable where Self: LosslessStringConvertible {
    /// The type's own parsing of its description (integers, `String`).
    public static func decode(text: String) -> Self? { Self(text) }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    /// The wrapped type's decoding.
    public static func decode(text: String) -> Self? { Wrapped.decode(text: text).map { .some($0) } }
}

extension Optional: PGNullDecodable where Wrapped: PGDecodable {
    package static var null: Self { nil }
}

extension String: PGDecodable {}
extension Int: PGDecodable {}
extension Int64: PGDecodable {}
extension Int32: PGDecodable {}
extension Int16: PGDecodable {}

extension Double: PGDecodable {
    /// The number, with PostgreSQL's spellings of NaN and the infinities.
    public static func decode(text: String) -> Double? {
        switch text {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: Double(text)
        }
    }
}

extension Bool: PGDecodable {
    /// `t` or `f` (and the other spellings PostgreSQL accepts).
    public static func decode(text: String) -> Bool? {
        switch text {
        case "t", "true", "on", "1": true
        case "f", "false", "off", "0": false
        default: nil
        }
    }
}

extension Date: PGDecodable {
    /// A `timestamp` or `timestamptz` in PostgreSQL's ISO output.
    public static func decode(text: String) -> Date? { PostgresDateFormat.parse(text) }
}

extension Array: PGDecodable where Element == UInt8 {
    /// A `bytea` in hex or escape form.
    public static func decode(text: String) -> [UInt8]? { PostgresBytes.parse(text) }
}

extension Data: PGDecodable {
    /// A `bytea` in hex or escape form.
    public static func decode(text: String) -> Data? { PostgresBytes.parse(text).map { Data($0) } }
}
