/// The SHA-256 that keys a template: migrations, seeders, connect hooks, the toolkit's
/// template schema version, the server's major version and the role that builds it (another
/// role cannot clone a template it does not own, so it builds its own).
///
/// The hash is computed by the server (`sha256()`), so the toolkit carries no hash code.
enum TemplateFingerprint {
    /// Bump when the toolkit changes what it puts into a template.
    /// 2: sequences are left with nothing cached, and the marker says whether clones may be recycled.
    /// 3: the marker carries the template's baseline (what a reset restores), read when it was built.
    /// 4: the baseline carries the rows of small tables with rows (a reset puts them back).
    /// 5: those rows as each column's text output, cast back by its type.
    static let schemaVersion = 5

    static func inputs(migrations: SchemaMigrations, seeders: [any Seeder], hooks: [ConnectHook], serverMajorVersion: Int, role: String) async throws -> String {
        var parts = [
            "pgtestkit-template-schema:\(schemaVersion)",
            "server-major:\(serverMajorVersion)",
            "role:\(role)",
            "migrations:" + (try await migrations.migrator?.fingerprint ?? "none"),
        ]
        parts += seeders.filter { $0.scope == .template }.map { "seeder:\($0.identity)@\($0.version)" }
        parts += hooks.map(\.fingerprintInput)
        return parts.joined(separator: "\n\u{1f}")
    }

    static func compute(_ inputs: String, on admin: AdminConnection) async throws -> String {
        try await admin.connection.scalar("SELECT encode(sha256($1::bytea), 'hex')", Array(inputs.utf8), as: String.self)
    }
}
