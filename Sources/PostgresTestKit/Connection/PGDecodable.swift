import Foundation

/// A Swift type that a column value (in PostgreSQL's text format) can be decoded into.
///
/// `Optional` conforms when its wrapped type does, and decodes SQL `NULL` as `nil`; a
/// non-optional type throws a ``PGError`` with code `.decoding` on `NULL`.
public protocol PGDecodable: Sendable {
    /// Decodes a non-`NULL` value given in text format, of the given column type.
    static func decode(text: String, type: PostgresType) throws -> Self
    /// Decodes a possibly-`NULL` value; the default throws on `NULL`.
    static func decode(optionalText: String?, type: PostgresType) throws -> Self
}

extension PGDecodable {
    public static func decode(optionalText: String?, type: PostgresType) throws -> Self {
        guard let text = optionalText else {
            throw PGError(code: .decoding, message: "NULL cannot be decoded as \(Self.self); decode an Optional instead")
        }
        return try decode(text: text, type: type)
    }

    static func mismatch(_ text: String, _ type: PostgresType) -> PGError {
        PGError(code: .decoding, message: "value '\(text.prefix(80))' of type OID \(type.rawValue) cannot be decoded as \(Self.self)")
    }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Self {
        try Wrapped.decode(text: text, type: type)
    }

    public static func decode(optionalText: String?, type: PostgresType) throws -> Self {
        guard let text = optionalText else { return nil }
        return try Wrapped.decode(text: text, type: type)
    }
}

extension String: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> String { text }
}

extension FixedWidthInteger where Self: PGDecodable {
    static func decodeInteger(_ text: String, _ type: PostgresType) throws -> Self {
        guard let value = Self(text) else { throw mismatch(text, type) }
        return value
    }
}

extension Int: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int { try decodeInteger(text, type) }
}

extension Int64: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int64 { try decodeInteger(text, type) }
}

extension Int32: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int32 { try decodeInteger(text, type) }
}

extension Int16: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int16 { try decodeInteger(text, type) }
}

extension Double: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Double {
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else { throw mismatch(text, type) }
            return value
        }
    }
}

extension Bool: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Bool {
        switch text {
        case "t", "true", "on", "1": return true
        case "f", "false", "off", "0": return false
        default: throw mismatch(text, type)
        }
    }
}

extension Date: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Date {
        guard let date = PostgresDateFormat.parse(text) else { throw mismatch(text, type) }
        return date
    }
}

extension Array: PGDecodable where Element == UInt8 {
    public static func decode(text: String, type: PostgresType) throws -> [UInt8] {
        guard let bytes = PostgresBytes.parse(text) else { throw mismatch(text, type) }
        return bytes
    }
}

extension Data: PGDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Data {
        guard let bytes = PostgresBytes.parse(text) else { throw mismatch(text, type) }
        return Data(bytes)
    }
}
