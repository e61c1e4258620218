import Foundation
import Testing
@testable import PostgresTestKit

/// The statement log lives in RAM: it is rotated past a size limit, and a reader that was
/// part-way through the old file loses nothing.
@Suite("Statement log rotation", .serialized)
struct ServerLogRotationTests {
    @Test func aReaderFollowsTheLogAcrossARotationAndLosesNothing() async throws {
        let base = "/tmp/pgtk-log-\(UInt32.random(in: 0...UInt32.max))"
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        try await server.start(logger: TestSupport.logger)
        do {
            let connection = try await Connection.connect(to: server.connectionString, logger: TestSupport.logger)
            var reader = ServerLogReader(path: server.logFile)
            try await connection.execute("CREATE TABLE before_rotation (id int)")
            #expect(try await server.rotateLogIfLarge(using: connection, limit: UInt64.max) == false, "under the limit: no rotation")
            // Wait until the first statement is in the file, without reading it yet.
            var flushed = ServerLogReader(path: server.logFile, offset: reader.offset)
            _ = try await flushed.readThrough(connection)
            #expect(try await server.rotateLogIfLarge(using: connection, limit: 0))
            try await connection.execute("CREATE TABLE after_rotation (id int)")
            let entries = try await reader.readThrough(connection)
            let statements = entries.compactMap(\.loggedStatement)
            #expect(statements.contains { $0.contains("before_rotation") }, "the rest of the rotated file")
            #expect(statements.contains { $0.contains("after_rotation") }, "the new file")
            #expect(FileManager.default.fileExists(atPath: ServerLogReader.rotatedPath(of: server.logFile)))
            let size = (try FileManager.default.attributesOfItem(atPath: server.logFile)[.size] as? UInt64) ?? .max
            #expect(size < 64 << 10, "the new file starts small: \(size) bytes")
            await connection.close()
        } catch {
            await EmbeddedServerTests.remove(server, base)
            throw error
        }
        await EmbeddedServerTests.remove(server, base)
    }
}
