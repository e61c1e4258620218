import Foundation
import PostgresTestKit

/// One fixture: migrations and seeders.
struct BenchFixture: Sendable {
    let name: String
    let title: String
    let migrations: SchemaMigrations
    let seeders: [any Seeder]
    /// The `pgtestkit prepare` arguments that build the same schema in a fresh process (for the
    /// time-to-first-test figures).
    let prepareArguments: [String]
}

/// One measured figure, as printed and written to JSON.
struct BenchFigure: Codable, Sendable {
    var section: String
    var name: String
    var unit: String
    var value: Double?
    var floorName: String?
    var floor: Double?
    var ratio: Double?
    var target: String?
    var pass: Bool?
    var note: String?

    init(section: String, name: String, unit: String = "ms", value: Double? = nil, floorName: String? = nil,
         floor: Double? = nil, target: String? = nil, pass: Bool? = nil, note: String? = nil) {
        self.section = section
        self.name = name
        self.unit = unit
        self.value = value
        self.floorName = floorName
        self.floor = floor
        if let value, let floor, floor > 0 { ratio = value / floor }
        self.target = target
        self.pass = pass
        self.note = note
    }

    init(section: String, name: String, ms: Double, floorName: String? = nil, floor: Double? = nil, note: String? = nil) {
        self.init(section: section, name: name, unit: "ms", value: ms, floorName: floorName, floor: floor, note: note)
    }

    static func format(_ value: Double, _ unit: String) -> String {
        switch unit {
        case "MB": String(format: "%.2f MB", value)
        case "ms": String(format: "%.2f ms", value)
        default: String(format: "%.2f ", value) + unit
        }
    }
}

struct BenchReport: Codable, Sendable {
    var server: String
    var serverMajorVersion: Int
    var prefix: String
    var iterations: Int
    var poolSize: Int
    var totalSeconds: Double
    var leftBehind: Int
    var figures: [BenchFigure]
}
