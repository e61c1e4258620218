import Foundation
import Testing
@testable import PostgresTestKit
#if canImport(Glibc)
import Glibc
#endif

/// The embedded server's socket authenticates by trust, so its directory is the boundary:
/// each test here tries to slip the server a directory someone else controls.
@Suite("Embedded server directories", .serialized)
struct EmbeddedServerSafetyTests {
    static func scratchBase() -> String { "/tmp/pgtk-dir-\(UInt32.random(in: 0...UInt32.max))" }

    /// Another OS user made the directory first, mode 0777: refused, never used.
    @Test(.enabled(if: getuid() == 0, "needs root to create a second OS user"))
    func aDirectoryMadeByAnotherUserIsRefused() async throws {
        let intruder = "pgtkintruder"
        if getpwnam(intruder) == nil {
            let made = try await Subprocess.run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", intruder])
            #expect(made.succeeded, "useradd: \(made.output)")
        }
        let base = Self.scratchBase()
        let created = try await Subprocess.run("/usr/sbin/runuser", ["-u", intruder, "--", "/bin/sh", "-c", "mkdir -m 0777 '\(base)' && chmod 0777 '\(base)'"])
        #expect(created.succeeded, "\(created.output)")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        let error = await #expect(throws: TestKitError.self) { try await server.start(logger: TestSupport.logger) }
        #expect(error?.code == .unsafeDirectory)
        #expect(error?.message.contains("belongs to \(intruder)") == true)
        #expect(error?.message.contains("PGTESTKIT_DATA_DIR") == true)
        #expect(!FileManager.default.fileExists(atPath: base + "/data"), "nothing was initialised there")
    }

    /// Our own directory, but readable by the group or others: refused with the chmod to run.
    @Test func ourOwnDirectoryWithGroupOrOtherBitsIsRefused() async throws {
        let base = Self.scratchBase()
        #expect(mkdir(base, 0o755) == 0)
        chmod(base, 0o755)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        let error = await #expect(throws: TestKitError.self) { try await server.start(logger: TestSupport.logger) }
        #expect(error?.code == .unsafeDirectory)
        #expect(error?.message.contains("mode 755") == true)
        #expect(error?.message.contains("chmod 700") == true)
    }

    /// A symlink at the directory's path, even to a directory of our own: refused.
    @Test func aSymlinkInPlaceOfTheDirectoryIsRefused() async throws {
        let base = Self.scratchBase()
        let target = base + "-target"
        #expect(mkdir(target, 0o700) == 0)
        #expect(symlink(target, base) == 0)
        defer { unlink(base); try? FileManager.default.removeItem(atPath: target) }
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        let error = await #expect(throws: TestKitError.self) { try await server.start(logger: TestSupport.logger) }
        #expect(error?.code == .unsafeDirectory)
        #expect(error?.message.contains("symlink") == true)
        #expect(!FileManager.default.fileExists(atPath: target + "/data"))
    }

    /// The clean twin: a directory the toolkit makes itself is 0700 and is reused run after run.
    @Test func aDirectoryTheToolkitMadeIsPrivateAndReused() async throws {
        let base = Self.scratchBase()
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        try await server.start(logger: TestSupport.logger)
        var info = stat()
        #expect(lstat(base, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect((try? server.checkDirectory(base)) == true)
        await #expect(throws: Never.self) { try await server.start(logger: TestSupport.logger) }   // reused as it is
        #expect(await server.isRunning())
        await EmbeddedServerTests.remove(server, base)
    }

    /// `PGTESTKIT_TCP=1`: 127.0.0.1 with scram; the password lives only in 0600 files, never in
    /// the server log; without it the server refuses; with it libpq connects.
    @Test func theTCPServerNeedsItsPasswordAndNeverLogsIt() async throws {
        let base = Self.scratchBase()
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base, "PGTESTKIT_TCP": "1"])
        try await server.start(logger: TestSupport.logger)
        do {
            let password = try #require(server.password)
            #expect(password.count == 32)
            let details = ConnectionDetails(parameters: try server.connectionString.parameters())
            #expect(details.host == "127.0.0.1" && details.port == server.port && details.password == password)
            let client = try await Connection.connect(to: ConnectionString(details.url), logger: TestSupport.logger)
            #expect(try await client.scalar("SELECT inet_server_addr()::text", as: String.self) == "127.0.0.1/32")
            await client.close()
            let noPassword = ConnectionDetails(host: "127.0.0.1", port: server.port, user: "postgres", database: "postgres")
            let refused = await #expect(throws: PGError.self) {
                try await Connection.connect(to: ConnectionString(noPassword.url + "&passfile=/nonexistent"), logger: TestSupport.logger)
            }
            #expect(refused?.message.contains("password") == true)
            for file in [base + "/password", server.passwordFile] {
                var info = stat()
                #expect(lstat(file, &info) == 0 && info.st_mode & 0o777 == 0o600, "\(file)")
            }
            let withPassfile = try await Subprocess.run("/usr/bin/env", ["PGPASSFILE=\(server.passwordFile)", "psql", "-XtA", "-c", "SELECT 1", noPassword.url])
            #expect(withPassfile.output.trimmed == "1")
            let log = (try? String(contentsOfFile: server.logFile, encoding: .utf8)) ?? ""
            #expect(!log.contains(password))
        } catch {
            await EmbeddedServerTests.remove(server, base)
            throw error
        }
        await EmbeddedServerTests.remove(server, base)
    }
}
