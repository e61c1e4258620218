extension AdminConnection {
    /// Claims toolkit databases another process left (ready clones) by renaming each
    /// `from` to its `to`, in as few round trips as it can: one read of their markers,
    /// validity and sessions (repeated, `settle` at most, while the leaving process's sessions
    /// close), then every rename in one transaction. When that transaction fails (another
    /// process claimed one first, or a session reached one), each is renamed on its own.
    /// Returns the `to` names of the databases claimed; the others are left as they were.
    ///
    /// A database without the toolkit's marker, an invalid one or one a session stays
    /// connected to is never renamed; each rename is registered with the exit's cleanup under
    /// its new name, as ``renameDatabase(_:to:claiming:)`` does.
    package func claim(_ claims: [(from: String, to: String)], settle: Duration = .milliseconds(500)) async -> Set<String> {
        guard !claims.isEmpty else { return [] }
        var eligible: [(from: String, to: String)] = []
        do {
            for claim in claims { try DatabaseName.validate(claim.to) }
            let names = claims.map(\.from).postgresArrayLiteral
            let open = try await Deadline.poll(for: settle, every: .milliseconds(5), until: { $0.sessions == 0 }) {
                let rows = try await connection.execute("""
                    SELECT d.datname, shobj_description(d.oid, 'pg_database'), d.datconnlimit = -2,
                           (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)
                    FROM pg_database d WHERE d.datname = ANY ($1::text[])
                    """, names).rows
                var found: [String: (owned: Bool, sessions: Int)] = [:]
                for row in rows {
                    let (comment, invalid) = (try row.decode(String?.self, at: 1), try row.decode(Bool.self, at: 2))
                    let owned = OwnerMarker(comment: comment) != nil && !invalid
                    found[try row.decode(String.self, at: 0)] = (owned, try row.decode(Int.self, at: 3))
                }
                return (found: found, sessions: found.values.filter(\.owned).map(\.sessions).reduce(0, +))
            }
            eligible = claims.filter { open.found[$0.from]?.owned == true && open.found[$0.from]?.sessions == 0 }
        } catch {
            return []
        }
        guard !eligible.isEmpty else { return [] }
        var statements: [String] = []
        for claim in eligible {
            guard let from = try? await connection.quoteIdentifier(claim.from), let to = try? await connection.quoteIdentifier(claim.to) else { return [] }
            statements.append("ALTER DATABASE \(from) RENAME TO \(to);")
        }
        do {
            try await registeringRenames(eligible[...]) {
                try await connection.simpleQuery(statements.joined(separator: " "))
            }
            return Set(eligible.map(\.to))
        } catch {
            var claimed: Set<String> = []
            for claim in eligible {
                do {
                    try await renameDatabase(claim.from, to: claim.to, claiming: true)
                    claimed.insert(claim.to)
                } catch {
                    logger.debug("\(claim.from) could not be claimed: \(error)")
                }
            }
            return claimed
        }
    }

    /// Runs `renames` with every claim registered with the exit's cleanup under both names
    /// while it runs, and under its new name only once it succeeded.
    private func registeringRenames(_ claims: ArraySlice<(from: String, to: String)>, _ renames: () async throws -> Void) async throws {
        guard let first = claims.first else { return try await renames() }
        try await ExitCleanup.shared.renaming(first.from, to: first.to, server: server, claiming: true) {
            try await registeringRenames(claims.dropFirst(), renames)
        }
    }
}
