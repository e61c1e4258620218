import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Drops the toolkit databases of dead runs, database by database, never from under a session.
///
/// **When a run is dead.** A run (every database whose owner marker names it) is *alive*, and
/// none of its databases is touched, while any of these holds:
///
/// 1. one of its admin sessions (`application_name` `pgtestkit-admin:<run>…`) is connected;
/// 2. its run lock is held: a ``RunKeeper`` holds it on a dedicated connection that takes it
///    again within a second when its session is killed (idle-session timeout,
///    `pg_terminate_backend`, a backend crash);
/// 3. its marker names this host (host name and PID namespace) and its process exists:
///    `kill(pid, 0)` succeeds, or fails with `EPERM` (another user's process);
/// 4. its marker names another host, and the run's newest database is younger than the grace
///    period, or the server has been up for less than the grace period (live runs reconnect
///    after a restart).
///
/// So a run is *dead* when it has no admin session and no run lock, and either it ran on this
/// host and its process is gone (`ESRCH`, or a zombie: proof, whatever the age), or it ran on
/// another host, is older than the grace period, and its run lock is still free after a
/// confirmation wait longer than a keeper needs to come back.
///
/// Even then, a database with a connected session (`pg_stat_activity.datname`, other than the
/// reaper's own) is never dropped: it is reported as in use. The drop has no `WITH (FORCE)`,
/// so the server itself refuses (55006) a session that connects meanwhile; and the reaper holds
/// the dead run's lock while it drops, so a keeper that comes back waits for it.
///
/// **Unmarked databases.** A process killed between its `CREATE DATABASE` and the owner
/// marker's `COMMENT` leaves a database with no comment at all. In a pass scoped to prefixes
/// (every manager's start-up pass; `pgtestkit reap --prefix`), one of this role's whose name has
/// exactly the shape of a toolkit database of that prefix and run (``RunID/ofToolkitName(_:prefix:)``)
/// is judged with that run, as a run of another host (it
/// says nothing of its host or age): dropped only when the run has no admin session and its
/// lock stays free through the confirmation wait — and checked again, under its drop lock, to
/// have no comment and no session. Any other unmarked database is never looked at.
///
/// Templates are never reaped (superseded ones go when a newer one is built); kept databases
/// only when asked, and not while in use either. A database that cannot be dropped (another
/// role's: 42501) is logged and returned in ``Report/failures``, and the pass goes on.
package struct Reaper: Sendable {
    /// What a reaping pass did.
    package struct Report: Sendable {
        /// Databases dropped (or that would be, in a dry run).
        package var dropped: [String] = []
        /// Databases left alone because their run is alive or they are too young.
        package var alive: [String] = []
        /// Ready clones left alone: the warm pool of a template that exists.
        package var ready: [String] = []
        /// Kept databases left alone.
        package var keptSkipped: [String] = []
        /// Databases of dead runs (or kept ones asked for) left alone because sessions are
        /// connected to them.
        package var inUse: [String] = []
        /// Databases the pass could not drop, and why.
        package var failures: [Failure] = []
    }

    /// A database a pass could not drop.
    package struct Failure: Sendable, CustomStringConvertible {
        /// The database's name.
        package let database: String
        /// Why (`.notOwned` for another role's database).
        package let error: TestKitError

        package var description: String { "\(database): \(error.message)" }
    }

    /// Which toolkit databases a pass looks at; empty parts do not narrow.
    package struct Scope: Sendable {
        /// Only databases of these prefixes (`<prefix>_…`).
        package var prefixes: [String]
        /// Only databases whose marker names one of these runs.
        package var runs: Set<String>
        /// Only databases whose marker names this host (judged by their process, not by age).
        package var thisHostOnly: Bool

        /// A scope; the default is every toolkit database on the server.
        package init(prefixes: [String] = [], runs: Set<String> = [], thisHostOnly: Bool = false) {
            self.prefixes = prefixes
            self.runs = runs
            self.thisHostOnly = thisHostOnly
        }

        func contains(_ database: OwnedDatabase) -> Bool {
            (prefixes.isEmpty || prefixes.contains { database.name.hasPrefix($0 + "_") })
                && (runs.isEmpty || runs.contains(database.marker.run))
                && (!thisHostOnly || database.marker.isFromThisHost)
        }
    }

    let admin: AdminConnection
    let logger: Logger
    /// How long a run of another host must stay without admin session and run lock before it is
    /// believed dead (a ``RunKeeper`` whose session was killed needs about its interval).
    let confirmation: Duration

    /// A reaper working through `admin`.
    package init(admin: AdminConnection, logger: Logger, confirmation: Duration = .seconds(3)) {
        self.admin = admin
        self.logger = logger
        self.confirmation = confirmation
    }

    private enum Verdict { case alive, deadHere, deadElsewhere }

    /// Runs one pass over the toolkit databases in `scope` (and of `prefix`, if given).
    ///
    /// Throws only when the pass cannot run at all: the server is not on the host allow-list,
    /// or the admin connection fails. Nothing about one database makes it throw.
    package func reap(
        prefix: String? = nil, scope: Scope = Scope(), grace: Duration = .seconds(60),
        includeKept: Bool = false, dryRun: Bool = false
    ) async throws -> Report {
        try await admin.requireAllowedHost(source: "the reaper's server")
        var scope = scope
        if let prefix { scope.prefixes.append(prefix) }
        var report = Report()
        var runs: [String: [OwnedDatabase]] = [:]
        let owned = try await admin.ownedDatabases(prefix: scope.prefixes.count == 1 ? scope.prefixes[0] : nil)
        let templates = Set(owned.filter { $0.marker.kind == .template }.map(\.name))
        let liveRuns = try await liveAdminRuns()
        for database in owned where scope.contains(database) && database.marker.kind != .template {
            // A ready clone a live run has claimed (renamed under its own name) but not brought
            // back yet still carries the leaving run's marker: it is the claimer's.
            if database.marker.kind == .ready, database.name != database.marker.readyName,
               let prefix = database.marker.template?.components(separatedBy: "_tpl_").first,
               let claimer = RunID.ofToolkitName(database.name, prefix: prefix), liveRuns.contains(claimer.rawValue) {
                report.alive.append(database.name)
                continue
            }
            // A ready clone of a template that exists is the warm pool, not a dead run's
            // leftover: the template collector ages it out. One renamed since it was left (an
            // adopter that died) or whose template is gone is a dead run's, as any other.
            if database.marker.kind == .ready, database.name == database.marker.readyName,
               let template = database.marker.template, templates.contains(template) {
                report.ready.append(database.name)
                continue
            }
            if database.marker.kept == true {
                if includeKept { try await reap(database.name, of: database.marker.run, into: &report, dryRun: dryRun) }
                else { report.keptSkipped.append(database.name) }
            } else {
                runs[database.marker.run, default: []].append(database)
            }
        }
        // Databases a run killed between its CREATE DATABASE and the marker's COMMENT left
        // (no comment at all, this role's, a run id in the name): judged with their run.
        var unmarked: [String: [String]] = [:]
        // Only in a pass scoped to prefixes: an unscoped one has no name shape to hold them to.
        for (name, run) in try await admin.unmarkedRunDatabases(prefixes: scope.prefixes) where scope.runs.isEmpty || scope.runs.contains(run) {
            unmarked[run, default: []].append(name)
        }
        guard !runs.isEmpty || !unmarked.isEmpty else { return report }
        func names(of run: String) -> [String] { (runs[run]?.map(\.name) ?? []) + (unmarked[run] ?? []) }

        let graceSeconds = Double(grace.components.seconds)
        let uptime = try await admin.query("SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8")
            .rows.first?.decode(Double.self, at: 0) ?? 0
        var adminRuns = try await liveAdminRuns()
        var locked: [String] = []   // dead runs whose lock this pass holds
        do {
            var suspects: [String] = []
            for run in Set(runs.keys).union(unmarked.keys).sorted() {
                // A run known only by unmarked databases says nothing of its host or age: it is
                // judged as one of another host (no admin session, its lock free after a wait).
                let judged = runs[run].map { verdict(on: $0, adminRuns: adminRuns, uptime: uptime, grace: graceSeconds) }
                    ?? (adminRuns.contains(run) ? .alive : .deadElsewhere)
                switch judged {
                case .alive:
                    report.alive += names(of: run)
                case .deadHere:
                    if try await admin.tryLockRun(run) { locked.append(run) } else { report.alive += names(of: run) }
                case .deadElsewhere:
                    if try await admin.tryLockRun(run) {
                        try await admin.unlockRun(run)   // free it while we wait: a keeper coming back must get it
                        suspects.append(run)
                    } else {
                        report.alive += names(of: run)
                    }
                }
            }
            if !suspects.isEmpty {
                try await Task.sleep(for: confirmation)
                adminRuns = try await liveAdminRuns()
                for run in suspects {
                    if !adminRuns.contains(run), try await admin.tryLockRun(run) { locked.append(run) } else { report.alive += names(of: run) }
                }
            }
            for run in locked {
                for name in unmarked[run] ?? [] { try await reap(name, of: run, unmarked: true, into: &report, dryRun: dryRun) }
                for database in runs[run] ?? [] { try await reap(database.name, of: run, into: &report, dryRun: dryRun) }
                try await admin.unlockRun(run)
                locked.removeAll { $0 == run }
            }
        } catch {
            for run in locked { try? await admin.unlockRun(run) }
            throw error
        }
        return report
    }

    /// The runs with an admin session connected (any of `pgtestkit-admin:<run>[:role]`).
    private func liveAdminRuns() async throws -> Set<String> {
        Set(try await admin.query("""
            SELECT DISTINCT split_part(split_part(application_name, ':', 2), ':', 1)
            FROM pg_stat_activity WHERE application_name LIKE 'pgtestkit-admin:%'
            """).rows.compactMap { $0[0] })
    }

    /// Applies the liveness rule (see ``Reaper``) to the databases of one run.
    private func verdict(on databases: [OwnedDatabase], adminRuns: Set<String>, uptime: Double, grace: Double) -> Verdict {
        guard let run = databases.first?.marker.run, !adminRuns.contains(run) else { return .alive }
        let judgedHere = databases.filter { $0.marker.isFromThisHost && $0.marker.pid > 0 }
        if judgedHere.contains(where: { Self.processExists($0.marker.pid) }) { return .alive }
        let elsewhere = databases.filter { !($0.marker.isFromThisHost && $0.marker.pid > 0) }
        if elsewhere.isEmpty { return .deadHere }
        let newest = elsewhere.map { $0.marker.createdDate.map { Date().timeIntervalSince($0) } ?? .infinity }.min() ?? .infinity
        return newest < grace || uptime < grace ? .alive : .deadElsewhere
    }

    /// Drops one database of a dead run (or a kept one) and records how that went;
    /// `unmarked`: one the run left before its owner marker (``AdminConnection/reapDatabase(_:unmarked:dryRun:)``).
    private func reap(_ name: String, of run: String, unmarked: Bool = false, into report: inout Report, dryRun: Bool) async throws {
        do {
            switch try await admin.reapDatabase(name, unmarked: unmarked, dryRun: dryRun) {
            case .dropped:
                report.dropped.append(name)
                if unmarked { logger.info("\(dryRun ? "would drop" : "dropped") \(name), which run \(run) created and was killed before it could mark") }
            case .inUse(let sessions):
                report.inUse.append(name)
                logger.notice("left \(name) of run \(run): \(sessions.count) session(s) connected: \(sessions.map(\.description).joined(separator: "; "))")
            case .gone:
                break
            }
        } catch let error as PGError where error.code == .connectionClosed || error.code == .connectionFailed {
            throw error   // the pass cannot go on without its connection
        } catch {
            let failure = Failure(
                database: name,
                error: error as? TestKitError ?? TestKitError(.configuration, "could not drop '\(name)' of run \(run): \(error)", underlying: error))
            report.failures.append(failure)
            logger.warning("reaper: \(failure)")
        }
    }

    /// Whether process `pid` exists on this host and is not a zombie: `kill(pid, 0)` succeeds
    /// or fails with `EPERM` (another user's process); `ESRCH` means it is gone.
    package static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // A zombie has exited (its sessions are gone); only its parent has not collected it.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.range(of: ") ", options: .backwards) else { return true }
        return stat[end.upperBound...].first != "Z"
    }
}

/// Keeps a run provably alive for every reaper, whatever happens to its other sessions: it
/// holds the run lock (a session-level advisory lock) on a dedicated admin connection
/// (`pgtestkit-admin:<run>:keeper`) with the idle-session timeout off, checks that session
/// every `interval`, and reconnects and takes the lock again when it was killed. A reaper
/// believes a run of another host dead only after its lock stayed free for a confirmation
/// wait longer than that.
package final class RunKeeper: Sendable {
    private let task: Task<Void, Never>

    private init(task: Task<Void, Never>) { self.task = task }

    /// Starts keeping `runID` alive on `server`, at once: the lock is taken in the background
    /// (when that fails, the keeper goes on trying every `interval`).
    package static func start(
        server: ConnectionString, runID: RunID, interval: Duration = .seconds(1), logger: Logger
    ) async -> RunKeeper {
        // The first lock is taken in the background: until then the admin session proves the
        // run alive, and a preparation does not wait a connection for it.
        RunKeeper(task: Task {
            var session = await connectAndLock(server, runID, logger)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                if let current = session {
                    do {
                        _ = try await current.query("SELECT 1")
                        continue
                    } catch {
                        logger.info("the run keeper of \(runID) lost its session (taking the run lock again): \(error)")
                        await current.close()
                        session = nil
                    }
                }
                session = await connectAndLock(server, runID, logger)
            }
            await session?.close()
        })
    }

    /// Stops keeping the run alive: closes the keeper's session, which frees the run lock.
    package func stop() async {
        task.cancel()
        await task.value
    }

    private static func connectAndLock(_ server: ConnectionString, _ runID: RunID, _ logger: Logger) async -> AdminConnection? {
        do {
            let admin = try await AdminConnection.connect(
                to: server, runID: runID, applicationName: runID.adminApplicationName + ":keeper", logger: logger)
            do {
                try await admin.holdRunLock()
                return admin
            } catch {
                await admin.close()
                throw error
            }
        } catch {
            logger.info("the run keeper of \(runID) could not take the run lock (retrying): \(error)")
            return nil
        }
    }
}
