/// The rows and command status of one executed statement.
public struct QueryResult: Sendable {
    /// Column names, in order.
    public let columns: [String]
    /// Column types, in order.
    package let columnTypes: [PostgresType]
    /// The rows, in the order the server sent them.
    public let rows: [Row]
    /// The command tag (`INSERT 0 1`, `SELECT 3`, ...).
    public let commandTag: String
    /// Rows affected by an `INSERT`/`UPDATE`/`DELETE` (or returned by a `SELECT`), if known.
    public let affectedRows: Int?
}

/// One row of a ``QueryResult``: text values, decoded on demand.
public struct Row: Sendable {
    /// Column names, shared with the result.
    public let columns: [String]
    let types: [PostgresType]
    /// The raw text values; `nil` is SQL `NULL`.
    public let values: [String?]

    /// The raw text value at a column index.
    public subscript(index: Int) -> String? { values[index] }

    /// Decodes the value at a column index.
    public func decode<T: PGDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard values.indices.contains(index) else {
            throw PGError(code: .decoding, message: "column index \(index) is out of range (row has \(values.count) columns)")
        }
        guard let text = values[index] else {
            if let nullable = T.self as? any PGNullDecodable.Type { return nullable.null as! T }
            throw PGError(code: .decoding, message: "column \(columns[index]) is NULL, which cannot be decoded as \(T.self); decode an Optional instead")
        }
        guard let value = T.decode(text: text) else {
            throw PGError(code: .decoding, message: "column \(columns[index]) (type OID \(types[index].rawValue)) holds '\(text.prefix(80))', which cannot be decoded as \(T.self)")
        }
        return value
    }

    /// Decodes the value of a named column.
    public func decode<T: PGDecodable>(_ type: T.Type, column: String) throws -> T {
        guard let index = columns.firstIndex(of: column) else {
            throw PGError(code: .decoding, message: "no column named '\(column)' (columns: \(columns.joined(separator: ", ")))")
        }
        return try decode(type, at: index)
    }
}
