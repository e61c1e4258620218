import Foundation
import Testing
@testable import PostgresTestKit

/// SQLSTATEs are a type: named for the codes the toolkit acts on, written as literals for
/// any other, and encoded as the plain five characters.
@Suite("SQLState")
struct SQLStateTests {
    @Test func aLiteralAndItsNamedConstantAreTheSameCode() {
        #expect(SQLState.readOnlySQLTransaction == "25006")
        #expect(SQLState.undefinedTable.errorClass == "42")
        #expect(SQLState.missingObject.contains("42P01"))
        #expect(!SQLState.missingObject.contains(.readOnlySQLTransaction))
    }

    @Test func itEncodesAsItsPlainString() throws {
        let data = try JSONEncoder().encode(["state": SQLState.tooManyConnections])
        #expect(String(decoding: data, as: UTF8.self) == #"{"state":"53300"}"#)
        #expect(try JSONDecoder().decode([String: SQLState].self, from: data)["state"] == .tooManyConnections)
    }
}
