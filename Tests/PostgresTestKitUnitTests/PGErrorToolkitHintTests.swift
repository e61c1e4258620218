import Testing
@testable import PostgresTestKit
@testable import PostgresTestKitConnection

/// The connection layer's hints speak of PostgreSQL only; the manager adds the toolkit's own
/// settings and commands before an error reaches a test.
@Suite("PGError: the toolkit's hints")
struct PGErrorToolkitHintTests {
    @Test(arguments: [SQLState.tooManyConnections, .diskFull, .outOfMemory, .cannotConnectNow])
    func theConnectionLayerNamesNoToolkitSetting(state: SQLState) throws {
        let hint = try #require(Connection.hint(forSQLState: state))
        #expect(!hint.contains("PGTESTKIT"))
        #expect(!hint.contains("pgtestkit"))
        #expect(!hint.contains("/dev/shm"))
    }

    @Test func aFullServerGetsThePoolSizeToLower() {
        let error = PGError(code: .connectionFailed, message: "sorry, too many clients already", sqlState: .tooManyConnections,
                            hint: Connection.hint(forSQLState: .tooManyConnections))
        let hinted = error.withToolkitHint(embedded: true)
        #expect(hinted.hint?.hasPrefix("The server has no free connection slot") == true)
        #expect(hinted.hint?.contains("PGTESTKIT_POOL_SIZE") == true)
        #expect(hinted.withToolkitHint(embedded: true).hint == hinted.hint, "added once")
    }

    @Test func aFullDiskNamesTheRAMDiskOnlyForTheEmbeddedServer() {
        let error = PGError(code: .server, message: "could not extend file", sqlState: .diskFull)
        #expect(error.withToolkitHint(embedded: true).hint?.contains("/dev/shm") == true)
        #expect(error.withToolkitHint(embedded: false).hint?.contains("/dev/shm") == false)
        #expect(error.withToolkitHint(embedded: false).hint?.contains("pgtestkit reap --kept") == true)
    }

    @Test func anUnreachableConfiguredServerPointsAtTheEmbeddedOne() {
        let error = PGError(code: .connectionFailed, message: "Connection refused", hint: "Is the server running and reachable at that host and port?")
        #expect(error.withToolkitHint(embedded: false).hint?.contains("Leave PGTESTKIT_URL, DATABASE_URL and PGHOST unset") == true)
        #expect(error.withToolkitHint(embedded: true).hint == error.hint)
        #expect(PGError(code: .server, message: "syntax error", sqlState: "42601").withToolkitHint(embedded: true).hint == nil)
    }
}
