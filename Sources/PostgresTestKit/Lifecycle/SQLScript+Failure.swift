extension SQLScript {
    /// What a failed statement of this script says, located in its file: `path:line:column
    /// failed with SQLSTATE …: message`, then the server's DETAIL and HINT and the statement's
    /// first line. The migrator and the SQL seeder report failures alike.
    func failure(of statement: Statement, in path: String, _ error: PGError) -> String {
        let (line, column) = lineAndColumn(ofOffset: statement.offset + max(0, (error.position ?? 1) - 1))
        var message = "\(path):\(line):\(column) failed with SQLSTATE \(error.sqlState?.rawValue ?? "?"): \(error.message)"
        if let detail = error.detail { message += "\nDETAIL: \(detail)" }
        if let hint = error.hint { message += "\nHINT: \(hint)" }
        let firstLine = statement.text.split(separator: "\n").first.map(String.init) ?? statement.text
        message += "\nSTATEMENT: \(firstLine)"
        return message
    }
}
