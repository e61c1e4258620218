/// The WAL witness read in chunks over a long window (a test command): the changes since the
/// start mark are read every few seconds and the WAL before them let go, so that neither a
/// checkpoint recycles WAL not yet read nor the witness's replication slot keeps gigabytes of
/// it (template clones made with `STRATEGY WAL_LOG` write whole databases into the WAL).
package struct WalReading: Sendable {
    /// The witness, or `nil` when it is unavailable (then nothing is read).
    package let witness: WalWitness?
    /// How often ``readIfDue()`` reads.
    package let interval: Duration
    /// The changes read so far, per database OID.
    package private(set) var changes: [UInt32: [WalChange]] = [:]
    /// Where the window started, and how far it has been read.
    package private(set) var start: WalLSN?
    private var readThrough: WalLSN?
    private var lastRead = ContinuousClock.now
    /// Why reading stopped early, if it did (the WAL could not be read).
    package private(set) var failure: TestKitError?

    /// A reading through `witness`, every `interval`.
    package init(witness: WalWitness?, interval: Duration = .seconds(2)) {
        self.witness = witness
        self.interval = interval
    }

    /// Marks the window's start.
    package mutating func start() async {
        guard let witness else { return }
        do {
            let mark = try await witness.mark()
            start = mark
            readThrough = mark
            lastRead = .now
        } catch {
            fail(error)
        }
    }

    /// Reads up to the current end of the WAL if ``interval`` has passed since the last read.
    package mutating func readIfDue() async {
        guard ContinuousClock.now - lastRead >= interval else { return }
        await read()
    }

    /// Reads up to the current end of the WAL (call it once more at the window's end).
    package mutating func read() async {
        guard let witness, let from = readThrough, failure == nil else { return }
        do {
            let to = try await witness.mark()
            for (database, found) in try await witness.changes(from: from, to: to) {
                changes[database] = WalChange.merging(changes[database] ?? [], found)
            }
            readThrough = to
            lastRead = .now
            await witness.release(through: to)
        } catch {
            fail(error)
        }
    }

    private mutating func fail(_ error: any Error) {
        failure = error as? TestKitError ?? TestKitError(.configuration, "the WAL witness failed: \(error)", underlying: error)
    }

    /// `12 change(s) in 3 database(s), 0/1A2B3C8..0/1A9F000` / `off` / why it stopped.
    package var summary: String {
        guard witness != nil else { return "off" }
        let count = changes.values.reduce(0) { $0 + $1.count }
        var text = "\(count) relation change(s) in \(changes.count) database(s)"
        if let start, let readThrough { text += " (\(start)..\(readThrough))" }
        if let failure { text += "; it stopped early: \(failure.message)" }
        return text
    }
}
