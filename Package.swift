// swift-tools-version:6.2
import PackageDescription

// Flags every FirstContact target shares (swift-log style: one list, applied in a loop below).
let sharedSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "FirstContact",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "firstcontact", targets: ["FirstContactCLI"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Webhook delivery: the HTTP client, HMAC-SHA256 signatures, and structured logs.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `/metrics`: Prometheus exposition (counters, gauges, the HTTP latency histogram).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // A channel handler of our own answers slow clients 408 (Hummingbird only closes).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        // The PostgreSQL store (FirstContactPostgres).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // TLS to PostgreSQL (`sslmode=require`, `verify-full`): the one postgres-nio is built on.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        // Pure vocabulary, time, calendars, configuration model and the correlation engine:
        // standard library only, no I/O, no clock reads.
        .target(name: "FirstContactCore"),
        // libxml2 (pkg-config libxml-2.0), used only through FirstContactIngest's XML layer.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // sqlite3_config, which Swift cannot call (variadic): FirstContactStore's process-wide settings.
        .systemLibrary(name: "CSQLiteConfig", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Bytes → normalised records or rejects; the YAML loader; file transports.
        .target(
            name: "FirstContactIngest",
            dependencies: [
                "FirstContactCore",
                "CLibXML2",
                .product(name: "Yams", package: "Yams"),
                // Locks ThreadSanitizer sees (Synchronization.Mutex is invisible to it on Linux).
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The one store protocol and its SQLite implementation.
        .target(
            name: "FirstContactStore",
            dependencies: [
                "FirstContactCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The raw sqlite3 API for the ingest hot path (see SQLiteBinding.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CSQLiteConfig",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The same store protocol on PostgreSQL, in a target of its own so that the SQLite store
        // and the pure targets build and link without NIO's PostgreSQL client.
        .target(
            name: "FirstContactPostgres",
            dependencies: [
                "FirstContactCore", "FirstContactStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One simulated hotline day, written as each PBX and the IVR would write it, and the
        // export its stories demand: the vocabulary only, no store, no HTTP.
        .target(name: "FirstContactSimulator", dependencies: ["FirstContactCore"]),
        // Composition: the engine, ingest pipeline, export of a store, followers, scheduler, reports — no HTTP.
        .target(
            name: "FirstContactApp",
            dependencies: [
                "FirstContactCore", "FirstContactIngest", "FirstContactStore", "FirstContactPostgres",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // `serve`: the HTTP API, web pages, webhook delivery and `/metrics`.
        .target(
            name: "FirstContactHTTP",
            dependencies: [
                "FirstContactCore", "FirstContactIngest", "FirstContactStore", "FirstContactApp",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The XML layer's throughput for BENCHMARKS.md (scripts/xml-decoder-benchmark.sh).
        .executableTarget(name: "XMLBenchmark", dependencies: ["FirstContactCore", "FirstContactIngest"]),
        // libFuzzer entry for every decoder and the configuration (scripts/fuzz.sh builds it with
        // --sanitize=fuzzer,address); a plain build links it as an executable that does nothing.
        .executableTarget(name: "FirstContactFuzz", dependencies: ["FirstContactCore", "FirstContactIngest"]),
        .executableTarget(
            name: "FirstContactCLI",
            dependencies: [
                "FirstContactApp", "FirstContactHTTP", "FirstContactCore", "FirstContactIngest", "FirstContactStore",
                "FirstContactSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FirstContactCoreTests", dependencies: ["FirstContactCore"]),
        .testTarget(
            name: "FirstContactIngestTests",
            dependencies: ["FirstContactIngest"],
            exclude: ["Fixtures"]
        ),
        // The store conformance suite: every ContactStore runs the same contract tests.
        .testTarget(
            name: "FirstContactStoreTests",
            dependencies: [
                "FirstContactStore", "FirstContactCore", "FirstContactPostgres",
                // The sample configuration and real Asterisk records, decoded as ingest decodes them.
                "FirstContactIngest",
                // A second connection, to write rows this build cannot read.
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own memory figure, against the store's process-wide setting.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "FirstContactAppTests",
            dependencies: [
                "FirstContactApp", "FirstContactHTTP", "FirstContactCLI", "FirstContactSimulator",
                // Databases of their own on the test server for the PostgreSQL sample day.
                "FirstContactPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                // A second connection in tests, to make one statement fail (GroupCommitTests).
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ]
)

// System-library targets (CLibXML2, CSQLiteConfig) take no settings.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSettings
}
