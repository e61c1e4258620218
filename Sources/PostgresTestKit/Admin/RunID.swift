/// Identifies one test run (one process's manager) on a shared server.
///
/// Ten random hex digits: unique across processes and hosts for all practical purposes. It
/// appears in database names, owner markers and the admin connection's `application_name`.
package struct RunID: Sendable, Hashable, CustomStringConvertible {
    /// The run id's text.
    package let rawValue: String

    /// A new random run id.
    package init() {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() & 0xff_ffff_ffff
        rawValue = String(value, radix: 16).leftPadded(to: 10)
    }

    /// Wraps an existing run id (as read from an owner marker).
    package init(rawValue: String) { self.rawValue = rawValue }

    package var description: String { rawValue }

    /// The run id in `name` when it has exactly the shape of a database the toolkit makes
    /// under `prefix`: a clone `<prefix>_<run>_<n>…` or `<prefix>_<run>_g<n>p<n>`, the WAL
    /// witness `<prefix>_<run>_wal`, a template build `<prefix>_tplb_<12 hex>_<run>`, a strategy
    /// probe `<prefix>_…_probe_<run>_<n>`; `nil` for any other name.
    package static func ofToolkitName(_ name: String, prefix: String) -> RunID? {
        guard name.hasPrefix(prefix + "_") else { return nil }
        let parts = name.dropFirst(prefix.count + 1).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        func isRun(_ part: String) -> Bool { part.count == 10 && part.allSatisfy { $0.isHexDigit && !$0.isUppercase } }
        func isNumber(_ part: String) -> Bool { !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) }
        guard parts.count >= 2 else { return nil }
        if isRun(parts[0]) {
            let rest = parts[1]
            let pooled = rest.first == "g" && rest.dropFirst().split(separator: "p", omittingEmptySubsequences: false).count == 2
                && rest.dropFirst().split(separator: "p", omittingEmptySubsequences: false).allSatisfy { isNumber(String($0)) }
            if isNumber(rest) || pooled || (rest == "wal" && parts.count == 2) { return RunID(rawValue: parts[0]) }
            return nil
        }
        if parts.count == 3, parts[0] == "tplb", parts[1].count == 12, parts[1].allSatisfy(\.isHexDigit), isRun(parts[2]) {
            return RunID(rawValue: parts[2])
        }
        if parts.count >= 3, parts[parts.count - 3] == "probe", isRun(parts[parts.count - 2]), isNumber(parts[parts.count - 1]) {
            return RunID(rawValue: parts[parts.count - 2])
        }
        return nil
    }

    /// The `application_name` of this run's admin connection.
    package var adminApplicationName: String { "pgtestkit-admin:\(rawValue)" }
}
