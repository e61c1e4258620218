extension ConnectionString {
    /// The key/value pairs libpq parses out of ``raw`` (empty values left out); a string libpq
    /// cannot parse is a `.configuration` error that names both forms.
    package func parameters() throws -> [String: String] {
        do {
            return try parse()
        } catch {
            throw TestKitError(.configuration, error.message)
        }
    }
}
