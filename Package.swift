// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target: Swift 6 language mode with strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let httpClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")

let package = Package(
    name: "Purser",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "purser", targets: ["purser"]),
        .executable(name: "purser-ingest", targets: ["purser-ingest"]),
        .executable(name: "purser-transaction-fetcher", targets: ["purser-transaction-fetcher"]),
        .executable(name: "purser-customer-policy", targets: ["purser-customer-policy"]),
        .executable(name: "purser-purse-renewer", targets: ["purser-purse-renewer"]),
        .executable(name: "purser-deposit-crediter", targets: ["purser-deposit-crediter"]),
        .executable(name: "calypso-sandbox", targets: ["calypso-sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.20.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0", traits: []),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.0"),
        // Already in the graph through Hummingbird; declared to use its `Tracing` product.
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
    ],
    targets: [
        // librdkafka from the system (Debian: librdkafka-dev), reached through pkg-config.
        .systemLibrary(
            name: "Crdkafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The only importer of Crdkafka: producer, consumer, transactions, admin, embedded broker.
        .target(name: "PurserKafka", dependencies: ["Crdkafka", log, lifecycle], swiftSettings: swiftSettings),
        // JSON values that keep numbers' exact digits, with a Codable bridge.
        .target(name: "PurserJSON", swiftSettings: swiftSettings),
        // CloudEvents envelope, every message type, exact amounts, topic names. No I/O.
        .target(name: "PurserSchema", dependencies: ["PurserJSON", crypto, yams], swiftSettings: swiftSettings),
        // Calypso's wire types, request signing, webhook signatures, HTTP client.
        .target(
            name: "Calypso",
            dependencies: ["PurserJSON", "PurserSchema", crypto, httpClient, log, tracing],
            swiftSettings: swiftSettings
        ),
        // Local emulator of Calypso's customer-purse API and webhook delivery.
        .target(name: "CalypsoSandbox", dependencies: ["Calypso", hummingbird, httpClient, log, lifecycle], swiftSettings: swiftSettings),
        // Configuration, retry, dead letters, the worker service, metrics and health endpoints.
        .target(
            name: "PurserRuntime",
            dependencies: ["PurserKafka", "PurserSchema", hummingbird, log, lifecycle, metrics, prometheus],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PurserIngest",
            dependencies: [
                "PurserRuntime", "PurserKafka", "PurserSchema", "PurserJSON", "Calypso", hummingbird, log, lifecycle,
                prometheus,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PurserWorkers",
            dependencies: ["PurserRuntime", "Calypso", "PurserSchema", "PurserJSON", log, lifecycle, tracing],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PurserCLI",
            dependencies: ["PurserWorkers", "PurserIngest", "CalypsoSandbox", "PurserSchema", argumentParser],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets and benchmarks.
        .target(name: "PurserTesting", dependencies: ["PurserKafka", "PurserSchema"], swiftSettings: swiftSettings),

        .executableTarget(name: "purser", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "purser-ingest", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "purser-transaction-fetcher", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "purser-customer-policy", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "purser-purse-renewer", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "purser-deposit-crediter", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "calypso-sandbox", dependencies: ["PurserCLI"], swiftSettings: swiftSettings),

        .testTarget(name: "PurserJSONTests", dependencies: ["PurserJSON"], swiftSettings: swiftSettings),
        .testTarget(name: "PurserSchemaTests", dependencies: ["PurserSchema"], swiftSettings: swiftSettings),
        .testTarget(name: "CalypsoTests", dependencies: ["Calypso"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CalypsoSandboxTests",
            dependencies: ["Calypso", "CalypsoSandbox", hummingbird, httpClient, lifecycle, tracing],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PurserKafkaTests", dependencies: ["PurserKafka", "PurserTesting"], swiftSettings: swiftSettings),
        // Kafka benchmark: PurserKafka against the same workload in C straight on librdkafka.
        .target(name: "KafkaBaseline", path: "Benchmarks/KafkaBaseline", linkerSettings: [.linkedLibrary("rdkafka")]),
        .executableTarget(
            name: "KafkaBenchmark",
            dependencies: ["PurserKafka", "PurserTesting", "KafkaBaseline", log],
            path: "Benchmarks/KafkaBenchmark",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PurserCLITests",
            dependencies: [
                "PurserCLI", "PurserRuntime", "PurserSchema", "PurserJSON", "PurserKafka", "PurserTesting", "Calypso",
                "CalypsoSandbox", "PurserWorkers", yams, httpClient, lifecycle, log,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PurserRuntimeTests",
            dependencies: ["PurserRuntime", "PurserKafka", "PurserSchema", "PurserTesting", log, lifecycle, metrics, prometheus],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "IngestBenchmark",
            dependencies: [
                "PurserIngest", "PurserKafka", "PurserTesting", "Calypso", httpClient, hummingbird, lifecycle, log,
            ],
            path: "Benchmarks/IngestBenchmark",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PurserIngestTests",
            dependencies: [
                "PurserIngest", "PurserKafka", "PurserSchema", "PurserJSON", "PurserTesting", "Calypso", httpClient,
                hummingbird, lifecycle, log,
            ],
            swiftSettings: swiftSettings
        ),
        // Worker benchmark: fetcher against in-flight ÷ latency, crediter against a plain consume.
        .executableTarget(
            name: "WorkerBenchmark",
            dependencies: [
                "PurserWorkers", "PurserRuntime", "PurserKafka", "PurserSchema", "PurserJSON", "PurserTesting", "Calypso",
                "CalypsoSandbox", log, lifecycle,
            ],
            path: "Benchmarks/WorkerBenchmark",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PurserWorkersTests",
            dependencies: ["PurserWorkers", "PurserSchema", "PurserJSON"],
            swiftSettings: swiftSettings
        ),
        // The workers end to end: embedded broker, calypso sandbox, real ingest.
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "PurserWorkers", "PurserRuntime", "PurserIngest", "PurserCLI", "PurserKafka", "PurserSchema", "PurserJSON",
                "PurserTesting", "Calypso", "CalypsoSandbox", argumentParser, httpClient, log, lifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The deposit audit shared by the pipeline benchmark, the chaos runner and its smoke test.
        .target(
            name: "PurserAudit",
            dependencies: ["PurserKafka", "PurserSchema", "CalypsoSandbox"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PipelineBenchmark",
            dependencies: [
                "PurserAudit", "PurserWorkers", "PurserIngest", "PurserRuntime", "PurserKafka", "PurserSchema",
                "Calypso", "CalypsoSandbox", httpClient, hummingbird, lifecycle, log,
            ],
            path: "Benchmarks/PipelineBenchmark",
            swiftSettings: swiftSettings
        ),
        // `make chaos`: the executables as separate processes under scripted faults, each run audited.
        .executableTarget(
            name: "purser-chaos",
            dependencies: ["PurserAudit", "PurserKafka", "PurserSchema", "Calypso", "CalypsoSandbox", argumentParser, lifecycle, log],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ChaosTests", dependencies: ["PurserAudit", "CalypsoSandbox", "PurserSchema"], swiftSettings: swiftSettings),
    ]
)
