// swift-tools-version:6.1
import PackageDescription

// Arrows point one way: CSystem ← Posix ← HTTPServer ← Service ← vigia; COpenSSL ← HTTPServer;
// JSON ← HTTPServer, Service;
// Posix ← Registry ← Service; Inference ← Training, Service; Training ← Reporting ← vigia;
// Inference, Registry ← Monitoring ← Service; ProgressDisplay ← Training, vigia.
//
// The `Training` trait (on by default) adds train, evaluate and model-card to `vigia`. Without
// it (`swift build --disable-default-traits`) the binary serves, validates and predicts only,
// and links neither SwiftCSV nor Yams, whose Foundation pulls in ICU's ~34 MB of data.
let package = Package(
    name: "vigia",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigia", targets: ["vigia"]),
    ],
    traits: [
        .trait(name: "Training", description: "vigia train, evaluate and model-card (links SwiftCSV, Yams and ICU)"),
        .default(enabledTraits: ["Training"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Linux headers Swift's Glibc module does not export (epoll, eventfd, inotify, accept4).
        .target(name: "CSystem"),
        // The one syscall wrapper layer: EINTR retries, errno → SystemError.
        .target(name: "Posix", dependencies: ["CSystem"]),
        // The system OpenSSL (libssl-dev) for TLS; shim.h wraps the macros Swift cannot import.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // JSON for every body and problem document: strict parser, cursor walks, value, writer, escaping.
        .target(name: "JSON"),
        // The event loop's state is its own thread's alone (see EventLoop.swift), and the
        // runtime's exclusivity check on each class-property access cost about 1,800
        // instructions of a ~20,000-instruction health request: release builds skip it, debug
        // builds (the tests, the fuzzers' sources aside) keep checking every access.
        .target(
            name: "HTTPServer", dependencies: ["Posix", "COpenSSL", "JSON"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(name: "Inference", dependencies: ["Posix", "CSystem"]),
        // In-process predict/explain timing for the Inference target (release builds).
        .executableTarget(name: "inference-bench", dependencies: ["Inference"]),
        // Generic over what it loads (a `ServableLoader`); Service plugs Inference in.
        .target(name: "Registry", dependencies: ["Posix"]),
        // Rollout and live monitoring, pure: canary split, score comparisons and guards, input skew.
        .target(name: "Monitoring", dependencies: ["Inference", "Registry"]),
        // Progress bars with ETA for long steps, and their terminal display (pure render + one writer).
        .target(name: "ProgressDisplay"),
        .target(
            name: "Training",
            dependencies: [
                "Inference", "ProgressDisplay", .product(name: "SwiftCSV", package: "SwiftCSV"),
                // The training parameters of a DVC params file (params.yaml).
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The evaluation report as HTML with inline SVG, and the model card (Markdown).
        .target(name: "Reporting", dependencies: ["Training", "Inference"]),
        .target(
            name: "Service",
            dependencies: [
                "HTTPServer", "JSON", "Registry", "Inference", "Monitoring", "Posix",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "vigia",
            dependencies: [
                "Service", "JSON", "Inference", "ProgressDisplay",
                .target(name: "Training", condition: .when(traits: ["Training"])),
                .target(name: "Reporting", condition: .when(traits: ["Training"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A blocking loopback HTTP client shared by the test targets (not part of the product).
        .target(name: "HTTPTestClient", dependencies: ["Posix"], path: "Tests/Support/HTTPTestClient"),
        // In-process cost of each step of a predict request (parse, validate, score, encode).
        .executableTarget(
            name: "service-bench",
            dependencies: ["Service", "HTTPServer", "JSON", "Inference", .product(name: "Logging", package: "swift-log")]
        ),
        // The cost benchmark's probes: a per-thread counting malloc and a region callgrind counts in.
        // Linked into cost-bench only: its malloc replaces the process's.
        .target(name: "CCostProbe"),
        // Cost reports (per-call instructions and allocations), baseline comparison, callgrind dumps.
        .target(name: "CostTracking"),
        // Deterministic counts per call of the predict handler path and the model, against a baseline.
        .executableTarget(
            name: "cost-bench",
            dependencies: [
                "CCostProbe", "CostTracking", "Service", "HTTPServer", "Inference",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "PosixTests", dependencies: ["Posix", "CSystem", "HTTPTestClient"]),
        // The `vigia` command line as users run it: the built binary in child processes.
        .testTarget(name: "VigiaCommandTests", dependencies: ["HTTPTestClient"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "Posix", "CSystem", "HTTPTestClient"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "ProgressDisplayTests", dependencies: ["ProgressDisplay"]),
        .testTarget(name: "CostTrackingTests", dependencies: ["CostTracking"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Inference"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Inference"]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring", "Registry", "Inference"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Training", "Inference"]),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Service", "HTTPServer", "JSON", "Registry", "Inference", "Training", "HTTPTestClient", "Posix",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
