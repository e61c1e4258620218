import Testing
@testable import PostgresTestKit

/// A WAL read that fails is a `wal_not_audited` finding whose note names what caused it —
/// and gives the advice for that cause only (a terminated session is not a `wal_keep_size`
/// matter).
@Suite("RunWalAudit: what a failed read says")
struct RunWalAuditCauseTests {
    static func wrapped(_ error: PGError) -> TestKitError {
        TestKitError(.configuration, "the WAL between 0/1000 and 0/2000 could not be read (\(error.message)).", underlying: error)
    }

    @Test func aRecycledSegmentAdvisesWalKeepSize() {
        let cause = RunWalAudit.cause(of: Self.wrapped(PGError(
            code: .server, message: "requested WAL segment 000000010000000000000003 has already been removed", sqlState: "58P01")))
        #expect(cause.contains("recycled"))
        #expect(cause.contains("wal_keep_size"))
    }

    @Test func aTerminatedSessionNamesTheTerminationNotWalKeepSize() {
        let cause = RunWalAudit.cause(of: Self.wrapped(PGError(
            code: .server, message: "terminating connection due to administrator command", sqlState: .adminShutdown)))
        #expect(cause.contains("57P01"))
        #expect(cause.contains("ended by the server"))
        #expect(!cause.contains("wal_keep_size"))
    }

    @Test func aServerThatDoesNotAnswerIsSaidSo() {
        let cause = RunWalAudit.cause(of: PGError(code: .connectionFailed, message: "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file or directory"))
        #expect(cause.contains("did not answer"))
        #expect(!cause.contains("wal_keep_size"))
    }

    @Test func anyOtherErrorIsPassedOnWithItsSQLState() {
        let cause = RunWalAudit.cause(of: Self.wrapped(PGError(code: .server, message: "permission denied for function pg_get_wal_records_info", sqlState: "42501")))
        #expect(cause.contains("42501"))
        #expect(cause.contains("permission denied"))
        #expect(!cause.contains("wal_keep_size"))
    }

    @Test func theFindingNamesTheStretchAndItsCause() {
        let finding = RunWalAudit.notAudited(from: WalLSN(0x1000), to: nil, error: PGError(code: .connectionClosed, message: "server closed the connection unexpectedly"))
        #expect(finding.kind == .walNotAudited)
        #expect(finding.statement == "the WAL from 0/1000 to the end of the run was not read")
        #expect(finding.note?.contains("did not answer") == true)
    }
}
