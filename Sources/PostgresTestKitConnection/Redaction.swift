/// Removes passwords from text before it reaches a log, an error or a report.
///
/// It masks the password of a `postgres://` URL's user part (it prints as `user:***@host`), in `password=...` conninfo
/// keywords, in SQL's `PASSWORD '...'` (`CREATE/ALTER ROLE`), every literal secret the toolkit
/// knows about (a password resolved by libpq), and any quoted fragment of one (libpq quotes
/// pieces of a connection string it cannot parse).
package enum Redaction {
    /// The mask that stands in for a removed password.
    package static let mask = "***"

    /// Returns `text` with every password it can find replaced by ``mask``.
    package static func redact(_ text: String, secrets: [String] = []) -> String {
        var result = redactURLPasswords(in: text)
        result = redactKeywordPasswords(in: result)
        result = redactSQLPasswords(in: result)
        result = redactQuotedFragments(of: secrets, in: result)
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

    /// `PASSWORD 'secret'` in role DDL (any case; `''` inside the literal included).
    private static func redactSQLPasswords(in text: String) -> String {
        var output = ""
        var rest = Substring(text)
        func isWordCharacter(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
        while let key = rest.range(of: "password", options: .caseInsensitive) {
            // The keyword (`PASSWORD 'x'`), not the word inside a literal or a longer name.
            let before = key.lowerBound > text.startIndex ? text[text.index(before: key.lowerBound)] : nil
            output += rest[..<key.upperBound]
            rest = rest[key.upperBound...]
            if isWordCharacter(before) || before == "'" || before == "\"" || isWordCharacter(rest.first) { continue }
            let afterSpaces = rest.drop(while: { $0.isWhitespace })
            guard afterSpaces.first == "'" else { continue }
            var index = afterSpaces.index(after: afterSpaces.startIndex)
            while index < afterSpaces.endIndex {
                if afterSpaces[index] == "'" {
                    let next = afterSpaces.index(after: index)
                    if next < afterSpaces.endIndex, afterSpaces[next] == "'" { index = afterSpaces.index(after: next); continue }
                    break
                }
                index = afterSpaces.index(after: index)
            }
            output += rest[..<afterSpaces.startIndex] + "'" + mask + "'"
            rest = index < afterSpaces.endIndex ? afterSpaces[afterSpaces.index(after: index)...] : afterSpaces[afterSpaces.endIndex...]
        }
        return output + rest
    }

    /// A double-quoted piece of the text that is part of a secret (libpq's parse errors quote
    /// the fragment they stumbled on).
    private static func redactQuotedFragments(of secrets: [String], in text: String) -> String {
        let secrets = secrets.filter { !$0.isEmpty }
        guard !secrets.isEmpty, text.contains("\"") else { return text }
        let pieces = text.split(separator: "\"", omittingEmptySubsequences: false)
        return pieces.enumerated().map { index, piece in
            index % 2 == 1 && !piece.isEmpty && secrets.contains(where: { $0.contains(piece) }) ? Substring(mask) : piece
        }.joined(separator: "\"")
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
    /// The text with every occurrence of `target` replaced, left to right.
    package func replacingAll(_ target: String, with replacement: String) -> String {
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
