import Foundation

/// Which test databases survive their test, for a look with `psql` afterwards.
///
/// Each kept database gets a line in the log and the run's summary that connects as printed:
/// `psql '<url>'`, the URL without its password; on the embedded TCP server
/// `PGPASSFILE='<the server's .pgpass>' psql '<url>'`. The password is never printed.
public enum KeepPolicy: String, Sendable {
    /// Drop every database (the default).
    case none
    /// Keep the databases of failed tests.
    case failed
    /// Keep every database.
    case all
}
