/// Where in Swift source something was registered (`#fileID:#line`), for reports that point
/// at the line to fix.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file, as `#fileID` gives it (`Module/File.swift`).
    public let fileID: String
    /// The line.
    public let line: Int

    /// A location; normally filled in from `#fileID` and `#line` default arguments.
    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
    }

    public var description: String { "\(fileID):\(line)" }
}
