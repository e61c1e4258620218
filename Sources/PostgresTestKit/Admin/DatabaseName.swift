/// Builds and checks the names of the databases the toolkit creates.
///
/// Names are `<prefix>_<runid>_<n>[_<test>]`, lower-case ASCII letters, digits and `_`, at most
/// 63 bytes (PostgreSQL's `NAMEDATALEN - 1`: longer names would be silently truncated by the
/// server). Anything else is rejected with a message, never truncated into a different name.
package enum DatabaseName {
    /// PostgreSQL's identifier limit in bytes.
    package static let maximumLength = 63

    /// Checks a prefix: a lower-case letter then up to 19 letters, digits or `_`.
    package static func validatePrefix(_ prefix: String) throws {
        let ok = prefix.utf8.count <= 20 && prefix.first.map { $0 >= "a" && $0 <= "z" } == true
            && prefix.allSatisfy(isAllowed)
        guard ok else {
            throw TestKitError(.invalidName, "the prefix '\(prefix.prefix(80))' is not allowed: use 1 to 20 lower-case letters, digits or '_', starting with a letter (for example PGTESTKIT_PREFIX=myapp).")
        }
    }

    /// Checks a complete database name the toolkit is about to create or drop.
    package static func validate(_ name: String) throws {
        guard !name.isEmpty else {
            throw TestKitError(.invalidName, "a database name cannot be empty")
        }
        guard name.utf8.count <= maximumLength else {
            throw TestKitError(.invalidName, "the database name '\(name.prefix(80))…' is \(name.utf8.count) bytes long; PostgreSQL keeps only \(maximumLength). Use a shorter prefix.")
        }
        guard name.allSatisfy(isAllowed), name.first.map({ !$0.isNumber }) == true else {
            throw TestKitError(.invalidName, "the database name '\(name.prefix(80))' may hold only lower-case letters, digits and '_', and cannot start with a digit.")
        }
    }

    /// Turns a test's name (`placesOrder(quantity:)`) into a fragment safe for a database name.
    package static func sanitize(_ testName: String) -> String {
        var out = ""
        for scalar in testName.lowercased().unicodeScalars {
            let c = Character(scalar)
            if isAllowed(c) && c != "_" { out.append(c) }
            else if out.last != "_" { out.append("_") }
        }
        while out.hasPrefix("_") { out.removeFirst() }
        while out.hasSuffix("_") { out.removeLast() }
        return out
    }

    /// `<base>_<sanitized test name>`, with the test name cut to fit in 63 bytes.
    package static func appendingTestName(_ base: String, _ testName: String?) -> String {
        guard let testName else { return base }
        let fragment = sanitize(testName)
        let room = maximumLength - base.utf8.count - 1
        guard room >= 4, !fragment.isEmpty else { return base }
        var cut = String(fragment.prefix(room))
        while cut.hasSuffix("_") { cut.removeLast() }
        return cut.isEmpty ? base : base + "_" + cut
    }

    static func isAllowed(_ c: Character) -> Bool {
        (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "_"
    }
}
