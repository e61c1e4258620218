import Foundation
import Testing
@testable import PostgresTestKit

@Suite("Embedded server", .serialized)
struct EmbeddedServerTests {
    @Test func aMissingBinaryDirectoryNamesThePackageToInstall() async throws {
        let error = await #expect(throws: TestKitError.self) {
            try await PostgresBinaries.locate(settings: ToolkitSettings(environment: ["PGTESTKIT_PG_BINDIR": "/nonexistent/pg/bin"]))
        }
        #expect(error?.code == .postgresNotInstalled)
        #expect(error?.message.contains(PostgresBinarySearch.installCommand(on: .current)) == true)   // apt-get or brew
    }

    @Test func resolutionOrderIsCodeThenURLThenPGThenEmbedded() {
        #expect(PostgresServerConfiguration.resolving(["PGTESTKIT_URL": "postgres://a@h/x", "DATABASE_URL": "postgres://b@h/y"]).source == "PGTESTKIT_URL")
        #expect(PostgresServerConfiguration.resolving(["DATABASE_URL": "postgres://b@h/y", "PGHOST": "/tmp"]).source == "DATABASE_URL")
        #expect(PostgresServerConfiguration.resolving(["PGHOST": "/tmp"]).source.hasPrefix("libpq environment"))
        #expect(PostgresServerConfiguration.resolving([:]).isEmbedded)
        #expect(PostgresServerConfiguration.resolving(["DATABASE_URL": "postgres://u:pw@h/db"]).description == "DATABASE_URL (postgres://u:***@h/db)")
    }

    /// A second, private server with password authentication: a wrong password must give a
    /// clear error that never shows the password.
    @Test func aWrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let base = "/tmp/pgtk-auth-\(UInt32.random(in: 0...UInt32.max))"
        let server = try await EmbeddedServer.locate(environment: ["PGTESTKIT_DATA_DIR": base])
        try await server.start(logger: TestSupport.logger)
        do {
            try await checkPasswords(server)
        } catch {
            await Self.remove(server, base)
            throw error
        }
        await Self.remove(server, base)
    }

    static func remove(_ server: EmbeddedServer, _ base: String) async {
        try? await server.stop(mode: .immediate)
        try? FileManager.default.removeItem(atPath: base)
        try? FileManager.default.removeItem(atPath: base + ".lock")
    }

    func checkPasswords(_ server: EmbeddedServer) async throws {
        let superuser = try await Connection.connect(to: server.connectionString)
        try await superuser.execute("CREATE ROLE app_user LOGIN PASSWORD 'correct-horse-battery'")
        let hba = server.dataDirectory + "/pg_hba.conf"
        try "local all app_user scram-sha-256\nlocal all all trust\n".write(toFile: hba, atomically: false, encoding: .utf8)
        try await superuser.execute("SELECT pg_reload_conf()")
        try await Task.sleep(for: .milliseconds(300))
        let url = "postgresql://app_user:wrong-secret-pw@/postgres?host=\(server.socketDirectory)&port=\(server.port)"
        let started = ContinuousClock.now
        let error = await #expect(throws: PGError.self) { try await Connection.connect(to: ConnectionString(url)) }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error?.hint?.contains("password") == true)
        #expect("\(String(describing: error))".contains("wrong-secret-pw") == false)
        // Through the toolkit: the admin error lists both maintenance databases, still redacted.
        let admin = await #expect(throws: TestKitError.self) {
            try await AdminConnection.connect(to: ConnectionString(url), runID: RunID())
        }
        #expect(admin?.description.contains("wrong-secret-pw") == false)
        #expect(admin?.description.contains("app_user:***@") == true)
        // The right password works.
        let ok = try await Connection.connect(to: ConnectionString(url.replacingOccurrences(of: "wrong-secret-pw", with: "correct-horse-battery")))
        #expect(try await ok.scalar("SELECT current_user", as: String.self) == "app_user")
        await ok.close()
        await superuser.close()
    }

    @Test(.enabled(if: PostgresServerConfiguration.fromEnvironment().isEmbedded, "the suite runs against another server"))
    func aSecondStartReusesTheRunningServer() async throws {
        let server = try await EmbeddedServer.locate()
        try await server.start(logger: TestSupport.logger)
        let pid = try String(contentsOfFile: server.dataDirectory + "/postmaster.pid", encoding: .utf8).split(separator: "\n").first
        try await server.start(logger: TestSupport.logger)
        let again = try String(contentsOfFile: server.dataDirectory + "/postmaster.pid", encoding: .utf8).split(separator: "\n").first
        #expect(pid == again)
        #expect(await server.isRunning())
    }
}
