import Foundation

/// One entry of a database's phase log: which phase, when it began, how long it lasted.
public struct PhaseEvent: Sendable, Codable, CustomStringConvertible {
    /// The phase entered.
    public let phase: Phase
    /// When it was entered (client clock).
    public let start: Date
    /// How long it lasted; `nil` while it is the current phase.
    public var duration: Duration?

    public var description: String {
        let ms = duration.map { String(format: "%.1f ms", $0.milliseconds) } ?? "…"
        return "\(phase) \(ms)"
    }
}

extension Duration {
    /// The duration in milliseconds, as a `Double`.
    package var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
