import ArgumentParser
import PostgresTestKit

/// `--policy fail|warn` parses straight into the library's policy.
extension AuditPolicy: ExpressibleByArgument {}
