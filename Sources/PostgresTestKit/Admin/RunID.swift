/// Identifies one test run (one process's manager) on a shared server.
///
/// Ten random hex digits: unique across processes and hosts for all practical purposes. It
/// appears in database names, owner markers and the admin connection's `application_name`.
package struct RunID: Sendable, Hashable, CustomStringConvertible {
    /// The run id's text.
    package let rawValue: String

    /// A new random run id.
    package init() {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() & 0xff_ffff_ffff
        rawValue = String(value, radix: 16).leftPadded(to: 10)
    }

    /// Wraps an existing run id (as read from an owner marker).
    package init(rawValue: String) { self.rawValue = rawValue }

    package var description: String { rawValue }

    /// The `application_name` of this run's admin connection.
    package var adminApplicationName: String { "pgtestkit-admin:\(rawValue)" }
}
