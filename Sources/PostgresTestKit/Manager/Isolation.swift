/// How tests are kept apart.
public enum Isolation: String, Sendable {
    /// Each test gets its own database, cloned from the template (the default).
    case database
    /// Tests share one clone; each runs in a transaction on its own toolkit connection that is
    /// rolled back afterwards, with the test's own `BEGIN`/`COMMIT`/`ROLLBACK` turned into
    /// savepoints (in the spirit of Django's `TestCase` and Ecto's sandbox).
    ///
    /// Only statements sent through ``PostgresTestDatabase/execute(_:_:)`` and friends are inside the
    /// transaction: an app's own client connecting with ``PostgresTestDatabase/url`` is not, and would
    /// see (and leave) committed data. Use it for suites that query through the toolkit's
    /// connection and do not test commit behaviour.
    case transaction
}
