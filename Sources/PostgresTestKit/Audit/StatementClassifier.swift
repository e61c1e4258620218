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

    static func isSchemaDDL(_ statement: String) -> Bool {
        let first = statement.uppercased().split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
        return ["CREATE", "ALTER", "DROP"].contains(first) && !isDatabaseAdministration(statement)
    }
}
