/// Where in Swift source something was registered (`#fileID:#line`), for reports that point
/// at the line to fix.
public struct RegistrationSite: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file, as `#fileID` gives it (`Module/File.swift`).
    public let fileID: String
    /// The line.
    public let line: Int
    /// The absolute path (`#filePath`), for annotations that need a repository-relative path.
    package let filePath: String?

    /// A location; normally filled in from `#fileID`, `#filePath` and `#line` default arguments.
    package init(fileID: String, line: Int, filePath: String? = nil) {
        self.fileID = fileID
        self.line = line
        self.filePath = filePath
    }

    /// The file relative to `directory` (the repository root in CI), else the `#fileID` file.
    package func relativePath(to directory: String) -> String {
        let root = directory.hasSuffix("/") ? directory : directory + "/"
        if let filePath, filePath.hasPrefix(root) { return String(filePath.dropFirst(root.count)) }
        return fileID.split(separator: "/").dropFirst().joined(separator: "/")
    }

    public static func == (a: RegistrationSite, b: RegistrationSite) -> Bool {
        a.fileID == b.fileID && a.line == b.line
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fileID)
        hasher.combine(line)
    }

    public var description: String { "\(fileID):\(line)" }
}
