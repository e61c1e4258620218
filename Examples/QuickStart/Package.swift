// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "App",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "PostgresTestKit", path: "../.."),
    ],
    targets: [
        .testTarget(
            name: "AppTests",
            dependencies: [
                .product(name: "PostgresTestKit", package: "PostgresTestKit"),
                .product(name: "PostgresTestKitTesting", package: "PostgresTestKit"),
                .product(name: "PostgresTestKitXCTest", package: "PostgresTestKit"),
            ]
        ),
    ]
)
