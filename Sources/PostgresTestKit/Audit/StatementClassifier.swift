/// Tells writes from reads in logged statements, for the server-log audit.
///
/// `log_statement = mod` already logs only DDL and data-modifying statements; this sorts the
/// database-level administration a test runner legitimately does in the maintenance database
/// (`CREATE/DROP/ALTER DATABASE`, `COMMENT ON DATABASE`) from writes into it.
enum StatementClassifier {
    static func isDatabaseAdministration(_ statement: String) -> Bool {
        let words = statement.uppercased().split(whereSeparator: { $0.isWhitespace }).prefix(3).map(String.init)
        guard let first = words.first else { return false }
        switch first {
        case "CREATE", "DROP", "ALTER": return words.dropFirst().first == "DATABASE"
        case "COMMENT": return words.count >= 3 && words[2] == "DATABASE"
        default: return false
        }
    }

    /// What a test runner may legitimately do outside its own databases: database-, role- and
    /// privilege-level administration, and session-local temporary tables. Anything else that
    /// `log_statement = mod` logs there is a write of application data.
    static func isAdministration(_ statement: String) -> Bool {
        isClusterAdministration(statement) || isTemporary(statement)
    }

    /// Database-, role- and privilege-level administration (not application data).
    private static func isClusterAdministration(_ statement: String) -> Bool {
        if isDatabaseAdministration(statement) { return true }
        let words = statement.uppercased().split(whereSeparator: { $0.isWhitespace }).prefix(2).map(String.init)
        guard let first = words.first else { return false }
        if first == "GRANT" || first == "REVOKE" { return true }
        return ["CREATE", "ALTER", "DROP"].contains(first) && ["ROLE", "USER", "GROUP"].contains(words.dropFirst().first ?? "")
    }

    /// `CREATE TEMP TABLE …`: session-local, never visible to anyone else.
    private static func isTemporary(_ statement: String) -> Bool {
        let words = statement.uppercased().split(whereSeparator: { $0.isWhitespace }).prefix(3).map(String.init)
        return words.first == "CREATE" && ["TEMP", "TEMPORARY"].contains(words.dropFirst().first ?? "")
    }

    static func isSchemaDDL(_ statement: String) -> Bool {
        let first = statement.uppercased().split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
        return ["CREATE", "ALTER", "DROP"].contains(first) && !isDatabaseAdministration(statement)
    }

    /// The statements of a logged string, one by one: `log_statement` logs a multi-statement
    /// simple query (`psql -c 'SELECT 1; INSERT …'`) as one entry when any of them writes.
    /// A single statement comes back as it is.
    static func statements(of logged: String) -> [String] {
        let pieces = SQLScript(logged).statements.map(\.text)
        return pieces.count > 1 ? pieces : [logged]
    }

    /// Whether one statement of a multi-statement string is one that `log_statement = mod`
    /// logs (DDL, data-modifying statements): everything but reads, session and transaction
    /// control. What a `SELECT`, `DO` or `CALL` writes only the WAL witness sees.
    static func isLoggedAsWrite(_ statement: String) -> Bool {
        let words = statement.uppercased().split(whereSeparator: { !($0.isLetter || $0 == "_") }).map(String.init)
        guard let first = words.first else { return false }
        let notWrites: Set<String> = [
            "SELECT", "VALUES", "TABLE", "SHOW", "SET", "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
            "ABORT", "SAVEPOINT", "RELEASE", "DO", "CALL", "LISTEN", "UNLISTEN", "NOTIFY", "DISCARD", "DEALLOCATE",
            "LOCK", "FETCH", "DECLARE", "CLOSE", "MOVE", "ANALYZE", "ANALYSE", "VACUUM", "CHECKPOINT", "LOAD",
        ]
        let modifying: Set<String> = ["INSERT", "UPDATE", "DELETE", "MERGE"]
        switch first {
        case "WITH":   // a writing CTE's INSERT/UPDATE/DELETE/MERGE makes the whole a write
            return words.contains(where: modifying.contains)
        case "EXPLAIN":   // EXPLAIN ANALYZE runs the statement
            return words.contains { $0 == "ANALYZE" || $0 == "ANALYSE" } && words.contains(where: modifying.contains)
        default:
            break
        }
        return !notWrites.contains(first)
    }

    /// The database a `CREATE DATABASE` creates and the template it names (`nil`: the
    /// default, `template1`), with identifiers folded as the server folds them.
    static func createdDatabase(_ statement: String) -> (name: String, template: String?)? {
        let tokens = identifierTokens(statement)
        guard tokens.count >= 3, tokens[0].folded == "create", tokens[1].folded == "database" else { return nil }
        let name = tokens[2].folded
        var template: String?
        if let index = tokens.indices.dropFirst(3).first(where: { tokens[$0].folded == "template" && !tokens[$0].quoted }) {
            var next = index + 1
            if next < tokens.count, tokens[next].folded == "=" { next += 1 }
            if next < tokens.count { template = tokens[next].folded }
        }
        return (name, template)
    }

    /// The temporary table a `CREATE [GLOBAL|LOCAL] TEMP[ORARY] TABLE [IF NOT EXISTS] name`
    /// makes, folded as the server folds it; `nil` for any other statement.
    static func createdTemporaryTable(_ statement: String) -> String? {
        var tokens = identifierTokens(statement)[...]
        guard tokens.popFirst()?.folded == "create" else { return nil }
        if ["global", "local"].contains(tokens.first?.folded) { tokens.removeFirst() }
        guard ["temp", "temporary"].contains(tokens.popFirst()?.folded), tokens.popFirst()?.folded == "table" else { return nil }
        if tokens.first?.folded == "if" { tokens = tokens.dropFirst(3) }   // IF NOT EXISTS
        return tokens.first.map(\.folded)
    }

    /// The one table a data-modifying statement writes — `INSERT INTO`, `UPDATE`, `DELETE
    /// FROM`, `TRUNCATE`, `COPY … FROM`, `DROP TABLE` of one table — with its schema when the
    /// statement names one, folded; `nil` when it writes none, or several, or cannot be told.
    static func writtenTable(_ statement: String) -> (schema: String?, name: String)? {
        let tokens = identifierTokens(statement)
        guard let verb = tokens.first?.folded else { return nil }
        var index: Int
        switch verb {
        case "insert", "delete": index = 2   // INSERT INTO / DELETE FROM
            guard tokens.count > 2, tokens[1].folded == (verb == "insert" ? "into" : "from") else { return nil }
        case "update", "copy": index = 1
        case "truncate", "drop":
            index = 1
            if tokens.count > 1, tokens[1].folded == "table" { index = 2 } else if verb == "drop" { return nil }
            if verb == "drop", tokens.count > index + 1, tokens[index].folded == "if" { index += 2 }   // IF EXISTS
        default: return nil
        }
        if tokens.count > index, tokens[index].folded == "only", !tokens[index].quoted { index += 1 }
        guard tokens.count > index else { return nil }
        var schema: String?
        var name = tokens[index].folded
        if tokens.count > index + 2, tokens[index + 1].folded == ".", !tokens[index + 1].quoted {
            schema = name
            name = tokens[index + 2].folded
            index += 2
        }
        if verb == "copy", !tokens.dropFirst(index + 1).contains(where: { $0.folded == "from" && !$0.quoted }) { return nil }   // COPY … TO reads
        if verb == "truncate" || verb == "drop", tokens.dropFirst(index + 1).contains(where: { $0.folded == "," && !$0.quoted }) { return nil }
        return (schema, name)
    }

    /// Words, quoted identifiers (unquoted and `""` undone), `=`, `.` and `,`; unquoted words lower-cased.
    private static func identifierTokens(_ text: String) -> [(folded: String, quoted: Bool)] {
        var tokens: [(folded: String, quoted: Bool)] = []
        var chars = Array(text)[...]
        while let c = chars.first {
            if c == "\"" {
                chars.removeFirst()
                var word = ""
                while let d = chars.first {
                    chars.removeFirst()
                    if d == "\"" {
                        if chars.first == "\"" { word.append("\""); chars.removeFirst() } else { break }
                    } else {
                        word.append(d)
                    }
                }
                tokens.append((word, true))
            } else if c == "=" || c == "." || c == "," {
                chars.removeFirst()
                tokens.append((String(c), false))
            } else if c.isLetter || c.isNumber || c == "_" || c == "$" {
                var word = ""
                while let d = chars.first, d.isLetter || d.isNumber || d == "_" || d == "$" { word.append(d); chars.removeFirst() }
                tokens.append((word.lowercased(), false))
            } else {
                chars.removeFirst()
            }
        }
        return tokens
    }
}
