import Testing
@testable import PostgresTestKit

/// The `CREATE DATABASE` the admin connection sends: a clone takes its template's measured
/// strategy; a database from template0 is copied file by file only where the server runs
/// without fsync (a checkpoint is then free, and WAL_LOG would put template0's 7.5 MB into the
/// WAL every WAL proof reads); PostgreSQL before 15 gets no STRATEGY. No server.
@Suite("AdminConnection.createStatement")
struct CreateStatementTests {
    @Test(arguments: [
        // (template, strategy, major, fsync off) -> statement
        (nil, nil, 15, true, #"CREATE DATABASE "d" TEMPLATE template0 STRATEGY FILE_COPY"#),
        (nil, nil, 18, false, #"CREATE DATABASE "d" TEMPLATE template0"#),
        (nil, CloneStrategy.walLog, 16, true, #"CREATE DATABASE "d" TEMPLATE template0 STRATEGY WAL_LOG"#),
        (nil, nil, 14, true, #"CREATE DATABASE "d" TEMPLATE template0"#),
        (#""t""#, CloneStrategy.walLog, 15, true, #"CREATE DATABASE "d" TEMPLATE "t" STRATEGY WAL_LOG"#),
        (#""t""#, nil, 15, true, #"CREATE DATABASE "d" TEMPLATE "t""#),
        (#""t""#, CloneStrategy.fileCopy, 14, false, #"CREATE DATABASE "d" TEMPLATE "t""#),
    ] as [(String?, CloneStrategy?, Int, Bool, String)])
    func statement(template: String?, strategy: CloneStrategy?, major: Int, fsyncOff: Bool, expected: String) {
        #expect(AdminConnection.createStatement(#""d""#, template: template, strategy: strategy,
                                                serverMajorVersion: major, fsyncOff: fsyncOff) == expected)
    }
}
