// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "PostgresTestKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PostgresTestKit", targets: ["PostgresTestKit"]),
        .library(name: "PostgresTestKitTesting", targets: ["PostgresTestKitTesting"]),
        .library(name: "PostgresTestKitXCTest", targets: ["PostgresTestKitXCTest"]),
        .executable(name: "pgtestkit", targets: ["pgtestkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // The libpq client: Connection, QueryResult, PGError, ConnectionDetails... It knows
        // nothing of the toolkit; PostgresTestKit re-exports it (Exports.swift).
        .target(
            name: "PostgresTestKitConnection",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        // CLibPQ too: the exit's cleanup (ExitCleanup) calls libpq directly, synchronously.
        .target(
            name: "PostgresTestKit",
            dependencies: ["PostgresTestKitConnection", "CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "PostgresTestKitTesting", dependencies: ["PostgresTestKit"]),
        .target(name: "PostgresTestKitXCTest", dependencies: ["PostgresTestKit"]),
        .target(
            name: "NotificationsFixture",
            dependencies: ["PostgresTestKit"],
            path: "Fixtures/notifications",
            exclude: ["Migrations"],
            sources: ["Sources"]
        ),
        .executableTarget(
            name: "pgtestkit",
            dependencies: [
                "PostgresTestKit", "NotificationsFixture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PostgresTestKitTests",
            dependencies: ["PostgresTestKit", "NotificationsFixture"]
        ),
        // The pure logic, without a server: classification, audit rules, URL forms, markers,
        // script splitting, savepoints, WAL rules, redaction, the exit's order.
        .testTarget(
            name: "PostgresTestKitUnitTests",
            dependencies: ["PostgresTestKit", "PostgresTestKitConnection"]
        ),
        .testTarget(
            name: "PostgresTestKitTestingTests",
            dependencies: ["PostgresTestKit", "PostgresTestKitTesting", "NotificationsFixture"]
        ),
        .testTarget(
            name: "PostgresTestKitXCTestTests",
            dependencies: ["PostgresTestKit", "PostgresTestKitXCTest", "NotificationsFixture"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
