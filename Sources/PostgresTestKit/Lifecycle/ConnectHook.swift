/// The toolkit's form of Django's `connection_created`: session set-up run on every
/// connection the toolkit opens to a template or test database.
///
/// Hooks are for session settings (`SET TIME ZONE 'UTC'`, `SET search_path ...`). They run in
/// a read-only session (the hook guard): a hook that writes is a lifecycle violation reported
/// with the line that registered it. Seed data belongs in a ``Seeder``.
public struct ConnectHook: Sendable {
    /// Which connections a hook runs on.
    public enum Scope: String, Sendable {
        /// Template and test database connections (the default and the only sensible one).
        case databaseConnections
        /// Every connection, the admin connection included — the shape of a misregistered
        /// `connection_created` receiver. Any write it makes there is flagged.
        case everyConnection
    }

    enum Body: Sendable {
        case sql(String)
        case closure(@Sendable (Connection) async throws -> Void)
    }

    let body: Body
    /// Which connections the hook runs on.
    public let scope: Scope
    /// Where the hook was registered.
    public let source: RegistrationSite
    /// A name for reports.
    public let name: String

    /// A hook that runs a SQL script.
    public static func sql(
        _ sql: String, scope: Scope = .databaseConnections, name: String? = nil,
        fileID: String = #fileID, filePath: String = #filePath, line: Int = #line
    ) -> ConnectHook {
        ConnectHook(body: .sql(sql), scope: scope, source: RegistrationSite(fileID: fileID, line: line, filePath: filePath), name: name ?? sql)
    }

    /// A hook written in Swift; it receives the new connection.
    public static func closure(
        _ name: String, scope: Scope = .databaseConnections,
        fileID: String = #fileID, filePath: String = #filePath, line: Int = #line,
        _ body: @escaping @Sendable (Connection) async throws -> Void
    ) -> ConnectHook {
        ConnectHook(body: .closure(body), scope: scope, source: RegistrationSite(fileID: fileID, line: line, filePath: filePath), name: name)
    }

    /// What goes into the template fingerprint for this hook.
    var fingerprintInput: String {
        switch body {
        case .sql(let sql): "hook:sql:\(scope.rawValue):\(sql)"
        case .closure: "hook:closure:\(scope.rawValue):\(name)"
        }
    }
}
