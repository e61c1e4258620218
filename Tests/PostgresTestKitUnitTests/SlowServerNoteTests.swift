import Testing
@testable import PostgresTestKit

/// When the toolkit says that test databases are slow on a server, and what it says.
@Suite("SlowServerNote")
struct SlowServerNoteTests {
    static let stock = ["fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"]
    static let tuned = ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"]

    @Test func aStockServerIsSlowAndTheNoteSaysWhyAndWhatToDo() throws {
        let note = try #require(SlowServerNote.judge(settings: Self.stock, host: "127.0.0.1", embedded: false))
        let message = note.message(meanCreateMilliseconds: 104)
        #expect(message.contains("fsync is on"))
        #expect(message.contains("104 ms"))
        #expect(message.contains("-c fsync=off -c full_page_writes=off -c synchronous_commit=off"))
        #expect(message.contains("leave DATABASE_URL and PGTESTKIT_URL unset"))
    }

    @Test func theEmbeddedServerSaysNothing() {
        #expect(SlowServerNote.judge(settings: Self.stock, host: "/dev/shm/pgtestkit-0-pg15", embedded: true) == nil)
        #expect(SlowServerNote.judge(settings: Self.tuned, host: "/dev/shm/pgtestkit-0-pg15", embedded: true) == nil)
    }

    @Test func aTunedLocalServerSaysNothing() {
        #expect(SlowServerNote.judge(settings: Self.tuned, host: "127.0.0.1", embedded: false) == nil)
        #expect(SlowServerNote.judge(settings: Self.tuned, host: "/var/run/postgresql", embedded: false) == nil)
    }

    @Test func aRemoteServerIsSlowEvenTuned() throws {
        let note = try #require(SlowServerNote.judge(settings: Self.tuned, host: "10.0.3.7", embedded: false))
        #expect(note.reasons == ["the server is at 10.0.3.7, across the network (every statement is a round trip)"])
        #expect(!note.message(meanCreateMilliseconds: nil).contains(" ms to create"))
    }
}
