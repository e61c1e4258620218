// swift-tools-version: 6.1
import PackageDescription

// Two real apps that use PostgresTestKit as their users would: a Vapor + Fluent app and a
// Hummingbird + PostgresNIO app. One package, so that SwiftNIO and PostgresNIO build once.
let package = Package(
    name: "PostgresTestKitExamples",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "PostgresTestKit", path: ".."),
        .package(url: "https://github.com/vapor/vapor", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver", from: "2.14.0"),
        .package(url: "https://github.com/vapor/fluent-kit", from: "1.57.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
    ],
    targets: [
        .target(
            name: "VaporNotifications",
            dependencies: [
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
            ]
        ),
        .testTarget(
            name: "VaporNotificationsTests",
            dependencies: [
                "VaporNotifications",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "XCTVapor", package: "vapor"),
                .product(name: "XCTFluent", package: "fluent-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresTestKit", package: "PostgresTestKit"),
                .product(name: "PostgresTestKitTesting", package: "PostgresTestKit"),
                .product(name: "PostgresTestKitXCTest", package: "PostgresTestKit"),
            ]
        ),
        .target(
            name: "HummingbirdNotifications",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "HummingbirdNotificationsTests",
            dependencies: [
                "HummingbirdNotifications",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PostgresTestKit", package: "PostgresTestKit"),
                .product(name: "PostgresTestKitTesting", package: "PostgresTestKit"),
                .product(name: "PostgresTestKitXCTest", package: "PostgresTestKit"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
