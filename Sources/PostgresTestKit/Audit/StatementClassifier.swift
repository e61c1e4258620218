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
}
