/// A query answered in a way the repository did not expect.
public enum RepositoryError: Error, Sendable {
    /// A statement that always returns a row returned none.
    case noRowReturned(String)
}
