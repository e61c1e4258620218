import CLibPQ

/// A libpq connection string — keyword form (`host=... dbname=...`) or URL form
/// (`postgres://user@host/db`) — that the toolkit never re-implements.
///
/// The string is handed to `PQconnectdbParams` with `expand_dbname`, so `PG*` environment
/// variables, service files and `.pgpass` keep working exactly as in `psql`. Its
/// ``description`` is redacted.
public struct ConnectionString: Sendable, Hashable, CustomStringConvertible {
    /// The raw string as given, possibly empty (then libpq uses only `PG*` and defaults).
    public let raw: String

    /// Wraps a conninfo string or a `postgres://` / `postgresql://` URL.
    public init(_ raw: String) {
        self.raw = raw
    }

    /// The string with any password masked.
    public var description: String {
        Redaction.redact(raw, secrets: [(try? parameters())?["password"]].compactMap { $0 })
    }

    /// The key/value pairs libpq parses out of ``raw`` (empty values left out).
    public func parameters() throws -> [String: String] {
        if raw.isEmpty { return [:] }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(raw, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "invalid connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw TestKitError(
                .configuration,
                "The connection string \(description) is invalid: \(Redaction.redact(message.trimmed)). "
                    + "Use the keyword form (host=... dbname=...) or a postgres:// URL.")
        }
        defer { PQconninfoFree(options) }
        return Self.collect(options)
    }

    static func collect(_ options: UnsafeMutablePointer<PQconninfoOption>) -> [String: String] {
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val, value.pointee != 0 {
                result[String(cString: keyword)] = String(cString: value)
            }
            cursor += 1
        }
        return result
    }

    /// Builds a keyword-form connection string from parameters, quoting every value.
    public static func keywordForm(_ parameters: [String: String]) -> ConnectionString {
        let text = parameters.keys.sorted().compactMap { key -> String? in
            guard let value = parameters[key] else { return nil }
            let escaped = value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
        return ConnectionString(text)
    }

    /// Builds a `postgresql://` URL from parameters, for clients that only take URLs.
    ///
    /// A Unix-socket host goes into the `host` query parameter, as libpq expects.
    public static func urlForm(_ parameters: [String: String]) -> String {
        func encode(_ s: String) -> String {
            var out = ""
            for byte in s.utf8 {
                let c = Character(UnicodeScalar(byte))
                if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                    out.append(c)
                } else {
                    out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
            return out
        }
        var url = "postgresql://"
        if let user = parameters["user"] {
            url += encode(user)
            if let password = parameters["password"] { url += ":" + encode(password) }
            url += "@"
        }
        let host = parameters["host"] ?? ""
        let socketHost = host.hasPrefix("/")
        if !socketHost { url += host }
        if let port = parameters["port"] { url += ":" + port }
        url += "/" + encode(parameters["dbname"] ?? "")
        var query: [String] = []
        if socketHost { query.append("host=" + encode(host)) }
        for key in ["sslmode", "application_name", "connect_timeout"] {
            if let value = parameters[key] { query.append(key + "=" + encode(value)) }
        }
        if !query.isEmpty { url += "?" + query.joined(separator: "&") }
        return url
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
