extension Array where Element == String {
    /// The values as a PostgreSQL array literal (`{"a","b \"c\""}`), for a `$1::text[]`
    /// parameter: every element quoted, its backslashes and double quotes escaped.
    var postgresArrayLiteral: String {
        "{" + map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}"
    }
}
