import Testing
@testable import PostgresTestKit

@Suite struct DatabaseNameTests {
    @Test(arguments: ["", "Robert'); DROP DATABASE postgres;--", "a\"b", "with space", "1starts_with_digit",
                      String(repeating: "a", count: 64), "ünïcode"])
    func rejectsHostileOrOverlongNames(_ name: String) {
        #expect(throws: TestKitError.self) { try DatabaseName.validate(name) }
    }

    @Test func acceptsTheToolkitsOwnNames() throws {
        try DatabaseName.validate("pgtk_0a1b2c3d4e_12_placesorder")
        try DatabaseName.validate(String(repeating: "a", count: 63))
    }

    @Test(arguments: ["", "UPPER", "has-dash", "x;drop", String(repeating: "p", count: 21), "_lead"])
    func rejectsBadPrefixes(_ prefix: String) {
        let error = #expect(throws: TestKitError.self) { try DatabaseName.validatePrefix(prefix) }
        #expect(error?.code == .invalidName)
    }

    @Test func testNamesAreSanitisedAndCutTo63Bytes() throws {
        #expect(DatabaseName.sanitize("placesOrder(quantity:)") == "placesorder_quantity")
        #expect(DatabaseName.sanitize("a'; DROP TABLE x; --") == "a_drop_table_x")
        let long = DatabaseName.appendingTestName("pgtk_0a1b2c3d4e_1", String(repeating: "veryLongTestName", count: 10))
        #expect(long.utf8.count <= 63)
        try DatabaseName.validate(long)
        #expect(DatabaseName.appendingTestName("pgtk_0a1b2c3d4e_1", "!!!") == "pgtk_0a1b2c3d4e_1")
    }
}
