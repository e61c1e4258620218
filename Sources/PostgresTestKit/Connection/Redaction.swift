/// Removes passwords from text before it reaches a log, an error or a report.
///
/// It masks the password in `postgres://user:password@host` URLs, in `password=...` conninfo
/// keywords, and every literal secret the toolkit knows about (a password resolved by libpq).
package enum Redaction {
    /// The mask that stands in for a removed password.
    package static let mask = "***"

    /// Returns `text` with every password it can find replaced by ``mask``.
    package static func redact(_ text: String, secrets: [String] = []) -> String {
        var result = redactURLPasswords(in: text)
        result = redactKeywordPasswords(in: result)
        for secret in secrets where secret.count >= 1 {
            result = result.replacingAll(secret, with: mask)
        }
        return result
    }

    private static func redactURLPasswords(in text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            output += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // userinfo ends at the last '@' before the first '/', '?' or whitespace.
            // libpq ends the user:password part only at '/', so '?' may stand in a password.
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "\n" || $0 == "'" || $0 == "\"" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                output += authority[...colon]
                output += mask
                output += authority[at...]
                rest = rest[authorityEnd...]
            }
        }
        output += rest
        return output
    }

    private static func redactKeywordPasswords(in text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let key = rest.range(of: "password") {
            output += rest[..<key.upperBound]
            rest = rest[key.upperBound...]
            let afterSpaces = rest.drop(while: { $0 == " " })
            guard afterSpaces.first == "=" else { continue }
            var value = afterSpaces.dropFirst().drop(while: { $0 == " " })
            output += "="
            if value.first == "'" {
                value = value.dropFirst()
                var index = value.startIndex
                while index < value.endIndex {
                    if value[index] == "\\" { index = value.index(after: index) }
                    else if value[index] == "'" { break }
                    if index < value.endIndex { index = value.index(after: index) }
                }
                rest = index < value.endIndex ? value[value.index(after: index)...] : value[index...]
            } else {
                let end = value.firstIndex(where: { $0 == " " || $0 == "&" || $0 == "\n" }) ?? value.endIndex
                rest = value[end...]
            }
            output += mask
        }
        output += rest
        return output
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var output = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            output += rest[..<range.lowerBound]
            output += replacement
            rest = rest[range.upperBound...]
        }
        output += rest
        return output
    }
}
