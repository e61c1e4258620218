import Testing

/// The suites that judge recycling and resets share the process's WAL witness with each
/// other; one of them kills the witness's session on purpose (it must be reopened). They run
/// one after another, so that no verdict of one meets the other's kill.
@Suite("The process's WAL witness: recycling and resets", .serialized)
struct ProcessWitnessSuites {}

typealias CloneRecyclingTests = ProcessWitnessSuites.CloneRecyclingTests
typealias CloneResetTests = ProcessWitnessSuites.CloneResetTests
