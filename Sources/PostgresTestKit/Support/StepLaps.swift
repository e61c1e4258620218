/// Times the steps of a slow operation in turn, for one debug log line: a manager's
/// preparation (`prepared in 412 ms: template 230 ms, reap 61 ms, …`, which a suite's first
/// acquires wait for), a pool's adoption, a verdict on a released clone.
struct StepLaps: CustomStringConvertible {
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now
    private var steps: [(name: String, milliseconds: Double)] = []

    /// Adds the time since the last step (or the start) as `name`.
    mutating func record(_ name: String) {
        let now = ContinuousClock.now
        steps.append((name, (now - last).milliseconds))
        last = now
    }

    /// The total, then the steps of a millisecond or more, largest first.
    var description: String {
        let total = (last - start).milliseconds
        let parts = steps.filter { $0.milliseconds >= 1 }.sorted { $0.milliseconds > $1.milliseconds }
            .map { "\($0.name) \(Int($0.milliseconds.rounded())) ms" }
        return "\(Int(total.rounded())) ms" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }
}
