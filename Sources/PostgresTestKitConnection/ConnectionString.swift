import CLibPQ

/// A libpq connection string — keyword form (`host=... dbname=...`) or URL form
/// (`postgres://user@host/db`) — that the toolkit never re-implements.
///
/// The string is handed to `PQconnectdbParams` with `expand_dbname`, so `PG*` environment
/// variables, service files and `.pgpass` keep working exactly as in `psql`. Its
/// ``description`` is redacted.
package struct ConnectionString: Sendable, Hashable, CustomStringConvertible {
    /// The raw string as given, possibly empty (then libpq uses only `PG*` and defaults).
    package let raw: String

    /// Wraps a conninfo string or a `postgres://` / `postgresql://` URL.
    package init(_ raw: String) {
        self.raw = raw
    }

    /// A string libpq cannot parse.
    package struct ParseError: Error, Sendable {
        /// What is wrong and what to write instead, with the string and libpq's words in it
        /// and whatever may hold a password masked.
        package let message: String
    }

    /// The string with any password masked.
    package var description: String {
        Redaction.redact(raw, secrets: [(try? parse())?["password"]].compactMap { $0 })
    }

    /// The key/value pairs libpq parses out of ``raw`` (empty values left out).
    package func parse() throws(ParseError) -> [String: String] {
        if raw.isEmpty { return [:] }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(raw, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "invalid connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw ParseError(
                message: "The connection string \(Redaction.redact(raw, secrets: passwordRegions)) is invalid: \(Redaction.redact(message.trimmed, secrets: passwordRegions)). "
                    + "Use the keyword form (host=... dbname=...) or a postgres:// URL.")
        }
        defer { PQconninfoFree(options) }
        return Self.collect(options)
    }

    /// What may hold a password in a string libpq cannot parse: a URL's `user:password`
    /// part, and whatever follows `password=`, so that no fragment of it reaches an error.
    private var passwordRegions: [String] {
        var regions: [String] = []
        if let scheme = raw.range(of: "://") {
            let authority = raw[scheme.upperBound...].prefix(while: { $0 != "/" })
            if let at = authority.lastIndex(of: "@") { regions.append(String(authority[..<at])) }
        }
        if let key = raw.range(of: "password") { regions.append(String(raw[key.upperBound...])) }
        return regions
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

    /// The keyword form of `parameters` with `dbname` set to `database`: one of the toolkit's
    /// databases on the server `parameters` name.
    package static func keywordForm(_ parameters: [String: String], database: String) -> ConnectionString {
        var parameters = parameters
        parameters["dbname"] = database
        return keywordForm(parameters)
    }

    /// Builds a keyword-form connection string from parameters, quoting every value.
    package static func keywordForm(_ parameters: [String: String]) -> ConnectionString {
        let text = parameters.keys.sorted().compactMap { key -> String? in
            guard let value = parameters[key] else { return nil }
            let escaped = value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
        return ConnectionString(text)
    }
}

extension String {
    /// The text without leading and trailing white space.
    package var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    /// The text with `pad` in front up to `width` characters (`"7"` → `"07"`).
    package func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
