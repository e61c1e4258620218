import CLibPQ
import Foundation

/// A Swift value that can be sent as a bind parameter (`$1`, `$2`, ...).
///
/// Values travel separately from the SQL text (`PQexecParams`): they are never interpolated
/// into a statement. `nil` binds SQL `NULL`. Conform a type of your own by giving its text form;
/// the server infers its type from the statement.
public protocol PGBindable: Sendable {
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
}

/// The toolkit's own bindable types, which also tell the server their type.
package protocol PGTypedBindable: PGBindable {
    /// The parameter's type as sent to the server.
    var postgresType: PostgresType { get }
}

extension PGBindable where Self: StringProtocol {
    /// The string itself.
    public var postgresText: String { String(self) }
}

extension PGBindable where Self: BinaryInteger {
    /// The number in decimal.
    public var postgresText: String { String(self) }
}

extension String: PGTypedBindable {
    package var postgresType: PostgresType { .text }
}

extension Substring: PGTypedBindable {
    package var postgresType: PostgresType { .text }
}

extension Int: PGTypedBindable {
    package var postgresType: PostgresType { .int8 }
}

extension Int64: PGTypedBindable {
    package var postgresType: PostgresType { .int8 }
}

extension Int32: PGTypedBindable {
    package var postgresType: PostgresType { .int4 }
}

extension Int16: PGTypedBindable {
    package var postgresType: PostgresType { .int2 }
}

extension Double: PGTypedBindable {
    package var postgresType: PostgresType { .float8 }
    /// The number, with PostgreSQL's spellings of NaN and the infinities.
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return "\(self)"
    }
}

extension Bool: PGTypedBindable {
    package var postgresType: PostgresType { .bool }
    /// `t` or `f`.
    public var postgresText: String { self ? "t" : "f" }
}

extension Date: PGTypedBindable {
    package var postgresType: PostgresType { .timestamptz }
    /// An ISO 8601 timestamp with its offset.
    public var postgresText: String { PostgresDateFormat.format(self) }
}

extension Array: PGBindable where Element == UInt8 {
    /// bytea's hex form.
    public var postgresText: String { PostgresBytes.hex(self) }
}

extension Array: PGTypedBindable where Element == UInt8 {
    package var postgresType: PostgresType { .bytea }
}

extension Data: PGTypedBindable {
    package var postgresType: PostgresType { .bytea }
    /// bytea's hex form.
    public var postgresText: String { PostgresBytes.hex(Array(self)) }
}

/// bytea's hex text format (`\x0a1b...`).
enum PostgresBytes {
    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2 + 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of a bytea value as the server sends it in text form — hex (`\x0a1b`) or the
    /// older escape format (`bytea_output = escape`) — decoded by libpq (`PQunescapeBytea`).
    static func parse(_ text: String) -> [UInt8]? {
        var length = 0
        let decoded = text.withCString { characters in
            characters.withMemoryRebound(to: UInt8.self, capacity: text.utf8.count + 1) { PQunescapeBytea($0, &length) }
        }
        guard let decoded else { return nil }
        defer { PQfreemem(decoded) }
        return Array(UnsafeBufferPointer(start: decoded, count: length))
    }
}
