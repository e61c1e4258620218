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
        let settings = code.overridden(by: ToolkitSettings(environment: environment).manager)
        #expect(settings == TestDatabaseManager.Configuration(prefix: "env", audit: .fail, keep: .all, poolSize: 0, recycle: false))
    }

    @Test func theCodeWinsOverTheDefaultWhereTheEnvironmentIsSilentOrUnreadable() {
        let code = TestDatabaseManager.Configuration(prefix: "code", audit: .warn, keep: .failed, poolSize: 4, recycle: false)
        let environment = ["PGTESTKIT_PREFIX": "", "PGTESTKIT_AUDIT": "sometimes", "PGTESTKIT_POOL_SIZE": "many", "CI": "true"]
        let settings = code.overridden(by: ToolkitSettings(environment: environment).manager)
        #expect(settings == code)
        #expect(ToolkitSettings(environment: environment).audit(code: code.audit) == .warn, "the code's policy beats CI=true's default")
    }

    @Test func withNeitherTheDefaultsApply() {
        let none = TestDatabaseManager.Configuration().overridden(by: ToolkitSettings(environment: [:]).manager)
        #expect(none == TestDatabaseManager.Configuration())
        #expect(ToolkitSettings(environment: ["CI": "true"]).audit(code: none.audit) == .fail)
        #expect(ToolkitSettings(environment: [:]).audit(code: none.audit) == .warn)
        #expect(ToolkitSettings(environment: ["PGTESTKIT_AUDIT": "off"]).audit(code: .fail) == .off)
        #expect(ToolkitSettings(environment: ["PGTESTKIT_KEEP": "FAILED"]).manager.keep == .failed)
    }
}
