import Testing
@testable import PostgresTestKit

/// One rule for every setting of a manager: the environment's value wins over the code's,
/// the code's over the default.
@Suite("TestDatabaseManager.Configuration")
struct ConfigurationTests {
    @Test func theEnvironmentWinsOverTheCodeForEverySetting() {
        let code = TestDatabaseManager.Configuration(prefix: "code", audit: .warn, keep: .failed, poolSize: 4, recycle: true)
        let environment = ["PGTESTKIT_PREFIX": "env", "PGTESTKIT_AUDIT": "fail", "PGTESTKIT_KEEP": "all",
                           "PGTESTKIT_POOL_SIZE": "0", "PGTESTKIT_RECYCLE": "0"]
        let settings = code.overridden(by: .fromEnvironment(environment))
        #expect(settings == TestDatabaseManager.Configuration(prefix: "env", audit: .fail, keep: .all, poolSize: 0, recycle: false))
    }

    @Test func theCodeWinsOverTheDefaultWhereTheEnvironmentIsSilentOrUnreadable() {
        let code = TestDatabaseManager.Configuration(prefix: "code", audit: .warn, keep: .failed, poolSize: 4, recycle: false)
        let environment = ["PGTESTKIT_PREFIX": "", "PGTESTKIT_AUDIT": "sometimes", "PGTESTKIT_POOL_SIZE": "many", "CI": "true"]
        let settings = code.overridden(by: .fromEnvironment(environment))
        #expect(settings == code)
        #expect(settings.resolvedAudit(environment) == .warn, "the code's policy beats CI=true's default")
    }

    @Test func withNeitherTheDefaultsApply() {
        let none = TestDatabaseManager.Configuration().overridden(by: .fromEnvironment([:]))
        #expect(none == TestDatabaseManager.Configuration())
        #expect(none.resolvedAudit(["CI": "true"]) == .fail)
        #expect(none.resolvedAudit([:]) == .warn)
        #expect(AuditPolicy.fromEnvironment(["PGTESTKIT_AUDIT": "off"], fallback: .fail) == .off)
        #expect(KeepPolicy.fromEnvironment(["PGTESTKIT_KEEP": "FAILED"]) == .failed)
    }
}
