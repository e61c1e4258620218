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

    static func parse(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"),
              utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        return bytes
    }
}
