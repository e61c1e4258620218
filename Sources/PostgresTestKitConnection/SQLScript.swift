/// Splits a SQL script into statements and maps error positions back to lines and columns.
///
/// It understands `'…'`, `E'…'`, `"…"`, `$tag$…$tag$`, `-- …` and `/* … */`, which is what it
/// takes to find statement boundaries in migration files; it does not parse SQL.
package struct SQLScript: Sendable {
    /// One statement of the script.
    package struct Statement: Sendable {
        /// The statement, without the leading comments and white space or the semicolon.
        package let text: String
        /// Offset of the statement's first character in the script (in `Character`s).
        package let offset: Int
    }

    /// The whole script.
    package let text: String
    /// Its statements, in order; those that are only comments are left out.
    package let statements: [Statement]

    /// Splits `text` into its statements.
    package init(_ text: String) {
        self.text = text
        self.statements = Self.split(Array(text))
    }

    /// The 1-based line and column of a character offset in the script.
    package func lineAndColumn(ofOffset offset: Int) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for (index, c) in text.enumerated() {
            if index >= offset { break }
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    private static func split(_ chars: [Character]) -> [Statement] {
        var statements: [Statement] = []
        var start = 0
        var i = 0
        func flush(_ end: Int) {
            if let first = firstCode(chars, from: start, to: end) {
                let body = String(chars[first..<end]).trimmed
                if !isOnlyComments(body) { statements.append(Statement(text: body, offset: first)) }
            }
        }
        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "-" && next == "-" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
            } else if c == "/" && next == "*" {
                var depth = 1
                i += 2
                while i < chars.count && depth > 0 {
                    if chars[i] == "/" && i + 1 < chars.count && chars[i + 1] == "*" { depth += 1; i += 1 }
                    else if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" { depth -= 1; i += 1 }
                    i += 1
                }
            } else if c == "'" || c == "\"" {
                let escapes = c == "'" && i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e")
                i += 1
                while i < chars.count {
                    if escapes && chars[i] == "\\" { i += 2; continue }
                    if chars[i] == c {
                        if i + 1 < chars.count && chars[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            } else if c == "$", let tag = dollarTag(chars, at: i) {
                i += tag.count
                while i < chars.count {
                    if chars[i] == "$", i + tag.count <= chars.count, Array(chars[i..<(i + tag.count)]) == tag {
                        i += tag.count
                        break
                    }
                    i += 1
                }
            } else if c == ";" {
                flush(i)
                i += 1
                start = i
            } else {
                i += 1
            }
        }
        flush(chars.count)
        return statements
    }

    /// The first character at or after `from` that is neither white space nor in a comment.
    private static func firstCode(_ chars: [Character], from: Int, to end: Int) -> Int? {
        var i = from
        while i < end {
            if chars[i].isWhitespace { i += 1 }
            else if chars[i] == "-", i + 1 < end, chars[i + 1] == "-" {
                while i < end && chars[i] != "\n" { i += 1 }
            } else if chars[i] == "/", i + 1 < end, chars[i + 1] == "*" {
                // Block comments nest in PostgreSQL: /* a /* b */ c */.
                var depth = 1
                i += 2
                while i < end && depth > 0 {
                    if chars[i] == "/" && i + 1 < end && chars[i + 1] == "*" { depth += 1; i += 1 }
                    else if chars[i] == "*" && i + 1 < end && chars[i + 1] == "/" { depth -= 1; i += 1 }
                    i += 1
                }
            } else {
                return i
            }
        }
        return nil
    }

    private static func dollarTag(_ chars: [Character], at index: Int) -> [Character]? {
        if index > 0, chars[index - 1].isLetter || chars[index - 1].isNumber || chars[index - 1] == "_" { return nil }
        var j = index + 1
        while j < chars.count, chars[j].isLetter || chars[j] == "_" || (j > index + 1 && chars[j].isNumber) { j += 1 }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return Array(chars[index...j])
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        split(lines: text).allSatisfy { $0.trimmed.isEmpty || $0.trimmed.hasPrefix("--") }
    }

    private static func split(lines text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
