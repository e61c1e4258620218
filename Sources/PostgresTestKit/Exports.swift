// The libpq client is a module of its own (PostgresTestKitConnection), re-exported here so that
// `import PostgresTestKit` still brings `Connection`, `QueryResult`, `Row`, `PGError`,
// `SQLState`, `ConnectionDetails`, `PGBindable` and `PGDecodable` to users' hooks, migrators
// and tests: no user code changes. This is the one file of the core that re-exports it.
@_exported import PostgresTestKitConnection
