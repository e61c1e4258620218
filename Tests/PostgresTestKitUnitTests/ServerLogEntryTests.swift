import Foundation
import Testing
@testable import PostgresTestKit

/// What the audits read out of one `jsonlog` line.
@Suite("ServerLogEntry")
struct ServerLogEntryTests {
    @Test func aJSONLogLineDecodesWithTheServersFieldNames() throws {
        let line = #"{"timestamp":"2026-11-24 15:34:09.461 UTC","user":"postgres","dbname":"app_dev","pid":4242,"remote_host":"[local]","error_severity":"LOG","state_code":"00000","message":"statement: INSERT INTO t VALUES (1)","application_name":"psql","backend_type":"client backend"}"#
        let entry = try JSONDecoder().decode(ServerLogEntry.self, from: Data(line.utf8))
        #expect(entry.dbname == "app_dev")
        #expect(entry.pid == 4242)
        #expect(entry.applicationName == "psql")
        #expect(entry.severity == "LOG")
        #expect(entry.stateCode == "00000")
        #expect(entry.loggedStatement == "INSERT INTO t VALUES (1)")
    }

    @Test func aSimpleQueryAndAnExtendedQueryExecutionBothYieldTheirStatement() {
        #expect(LogEntries.entry("db", message: "statement: UPDATE t SET x = 1").loggedStatement == "UPDATE t SET x = 1")
        #expect(LogEntries.entry("db", message: "execute S_1: INSERT INTO t VALUES ($1)").loggedStatement == "INSERT INTO t VALUES ($1)")
        #expect(LogEntries.entry("db", message: "execute <unnamed>: DELETE FROM t").loggedStatement == "DELETE FROM t")
    }

    @Test func errorsDurationsAndOtherMessagesAreNoLoggedStatement() {
        #expect(LogEntries.entry("db", message: "statement: INSERT INTO t VALUES (1)", severity: "ERROR").loggedStatement == nil)
        #expect(LogEntries.entry("db", message: "duration: 0.215 ms").loggedStatement == nil)
        #expect(LogEntries.entry("db", message: nil).loggedStatement == nil)
    }

    @Test func aConnectionAuthorizedLineNamesItsDatabase() {
        #expect(LogEntries.connection(to: "app_dev").authorizedDatabase == "app_dev")
        #expect(LogEntries.entry("db", message: "connection authorized: user=postgres database=postgres").authorizedDatabase == "postgres")
        #expect(LogEntries.entry("db", message: "connection received: host=[local]").authorizedDatabase == nil)
    }
}
