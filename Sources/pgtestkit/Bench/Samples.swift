import PostgresTestKit

/// Samples in milliseconds with nearest-rank percentiles.
struct Samples: Sendable {
    private(set) var values: [Double] = []

    mutating func add(_ duration: Duration) { values.append(duration.milliseconds) }

    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    var p50: Double { percentile(50) }
    var p95: Double { percentile(95) }
    var p99: Double { percentile(99) }
}
