import CLibPQ
import Foundation

/// A Swift value that can be sent as a bind parameter (`$1`, `$2`, ...).
///
/// Values travel separately from the SQL text (`PQexecParams`): they are never interpolated
/// into a statement. `nil` binds SQL `NULL`.
public protocol PGBindable: Sendable {
    /// The parameter's type as sent to the server.
    var postgresType: PostgresType { get }
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
}

extension String: PGBindable {
    public var postgresType: PostgresType { .text }
    public var postgresText: String { self }
}

extension Substring: PGBindable {
    public var postgresType: PostgresType { .text }
    public var postgresText: String { String(self) }
}

extension Int: PGBindable {
    public var postgresType: PostgresType { .int8 }
    public var postgresText: String { String(self) }
}

extension Int64: PGBindable {
    public var postgresType: PostgresType { .int8 }
    public var postgresText: String { String(self) }
}

extension Int32: PGBindable {
    public var postgresType: PostgresType { .int4 }
    public var postgresText: String { String(self) }
}

extension Int16: PGBindable {
    public var postgresType: PostgresType { .int2 }
    public var postgresText: String { String(self) }
}

extension Double: PGBindable {
    public var postgresType: PostgresType { .float8 }
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return "\(self)"
    }
}

extension Bool: PGBindable {
    public var postgresType: PostgresType { .bool }
    public var postgresText: String { self ? "t" : "f" }
}

extension Date: PGBindable {
    public var postgresType: PostgresType { .timestamptz }
    public var postgresText: String { PostgresDateFormat.format(self) }
}

extension Array: PGBindable where Element == UInt8 {
    public var postgresType: PostgresType { .bytea }
    public var postgresText: String { PostgresBytes.hex(self) }
}

extension Data: PGBindable {
    public var postgresType: PostgresType { .bytea }
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
