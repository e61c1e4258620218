import Foundation
import Testing
@testable import PostgresTestKit

/// A private embedded server whose base directory is too long for a socket path: it starts,
/// with its socket in a short 0700 directory of the user's own, and answers there.
@Suite("Embedded server: a long base directory")
struct EmbeddedServerSocketDirectoryTests {
    @Test func aBaseDirectoryTooLongForTheSocketStartsWithTheSocketInAShortDirectory() async throws {
        // One long component: made by this process, so a root run's server user can enter it.
        let base = "/tmp/pgtk-long-\(UInt32.random(in: 0...UInt32.max))-" + String(repeating: "x", count: 100)
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        #expect(server.socketDirectory != base)
        #expect(server.socketDirectory.hasPrefix("/tmp/pgtestkit-\(getuid())-pg\(server.binaries.majorVersion)-"))
        #expect(server.socketNotice?.contains(server.socketDirectory) == true)
        defer { try? FileManager.default.removeItem(atPath: server.socketDirectory) }
        do {
            try await server.start(logger: TestSupport.logger)
            #expect(try server.checkDirectory(server.socketDirectory))   // this user's (or the server user's), 0700, no symlink
            let connection = try await Connection.connect(to: server.connectionString)
            #expect(try await connection.scalar("SELECT current_setting('unix_socket_directories')", as: String.self) == server.socketDirectory)
            await connection.close()
            // A data directory made when the socket went elsewhere (an older toolkit's choice)
            // listens where clients now look once it starts again — its data kept, not re-made.
            let kept = server.dataDirectory + "/pgtestkit-test-kept"
            #expect(FileManager.default.createFile(atPath: kept, contents: Data()))
            try await server.stop()
            let conf = server.dataDirectory + "/pgtestkit.conf"
            let settings = try String(contentsOfFile: conf, encoding: .utf8)
            try settings.replacingOccurrences(of: "unix_socket_directories = '\(server.socketDirectory)'", with: "unix_socket_directories = '/tmp/pgtk-elsewhere'")
                .write(toFile: conf, atomically: false, encoding: .utf8)
            try await server.start(logger: TestSupport.logger)
            let again = try await Connection.connect(to: server.connectionString)
            #expect(try await again.scalar("SELECT current_setting('unix_socket_directories')", as: String.self) == server.socketDirectory)
            await again.close()
            #expect(FileManager.default.fileExists(atPath: kept), "the data directory was re-created instead of moved to the new socket directory")
        } catch {
            await EmbeddedServerTests.remove(server, base)
            throw error
        }
        await EmbeddedServerTests.remove(server, base)
    }
}
