import Foundation

/// A Swift type that a column value (in PostgreSQL's text format) can be decoded into.
///
/// `Optional` conforms when its wrapped type does, and decodes SQL `NULL` as `nil`; a
/// non-optional type throws a ``PostgresError`` with code `.decoding` on `NULL`.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-`NULL` value given in text format, of the given column type.
    static func decode(text: String, type: PostgresType) throws -> Self
    /// Decodes a possibly-`NULL` value; the default throws on `NULL`.
    static func decode(optionalText: String?, type: PostgresType) throws -> Self
}

extension PostgresDecodable {
    public static func decode(optionalText: String?, type: PostgresType) throws -> Self {
        guard let text = optionalText else {
            throw PostgresError(code: .decoding, message: "NULL cannot be decoded as \(Self.self); decode an Optional instead")
        }
        return try decode(text: text, type: type)
    }

    static func mismatch(_ text: String, _ type: PostgresType) -> PostgresError {
        PostgresError(code: .decoding, message: "value '\(text.prefix(80))' of type OID \(type.rawValue) cannot be decoded as \(Self.self)")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Self {
        try Wrapped.decode(text: text, type: type)
    }

    public static func decode(optionalText: String?, type: PostgresType) throws -> Self {
        guard let text = optionalText else { return nil }
        return try Wrapped.decode(text: text, type: type)
    }
}

extension String: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> String { text }
}

extension FixedWidthInteger where Self: PostgresDecodable {
    static func decodeInteger(_ text: String, _ type: PostgresType) throws -> Self {
        guard let value = Self(text) else { throw mismatch(text, type) }
        return value
    }
}

extension Int: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int { try decodeInteger(text, type) }
}

extension Int64: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int64 { try decodeInteger(text, type) }
}

extension Int32: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int32 { try decodeInteger(text, type) }
}

extension Int16: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Int16 { try decodeInteger(text, type) }
}

extension Double: PostgresDecodable {
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

extension Bool: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Bool {
        switch text {
        case "t", "true", "on", "1": return true
        case "f", "false", "off", "0": return false
        default: throw mismatch(text, type)
        }
    }
}

extension Date: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Date {
        guard let date = PostgresDateFormat.parse(text) else { throw mismatch(text, type) }
        return date
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func decode(text: String, type: PostgresType) throws -> [UInt8] {
        guard let bytes = PostgresBytes.parse(text) else { throw mismatch(text, type) }
        return bytes
    }
}

extension Data: PostgresDecodable {
    public static func decode(text: String, type: PostgresType) throws -> Data {
        guard let bytes = PostgresBytes.parse(text) else { throw mismatch(text, type) }
        return Data(bytes)
    }
}
