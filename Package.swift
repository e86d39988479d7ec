// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first (docs in design.md): CPedigreeKernels <- PedigreeFormats <- PedigreeEngine
// <- PedigreeReport <- Pedigree (umbrella API) <- pedigree (CLI).
let package = Package(
    name: "Pedigree",
    products: [
        .library(name: "Pedigree", targets: ["Pedigree"]),
        .executable(name: "pedigree", targets: ["pedigree"]),
    ],
    targets: [
        .target(
            name: "CPedigreeKernels",
            cSettings: [.unsafeFlags(["-O3"])],
            linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("lapacke"), .linkedLibrary("zstd"), .linkedLibrary("m")]
        ),
        .target(name: "PedigreeFormats", dependencies: ["CPedigreeKernels"]),
        .target(name: "PedigreeEngine", dependencies: ["PedigreeFormats", "CPedigreeKernels"]),
        .target(name: "PedigreeReport", dependencies: ["PedigreeEngine", "PedigreeFormats"]),
        .target(name: "Pedigree", dependencies: ["PedigreeReport", "PedigreeEngine", "PedigreeFormats", "CPedigreeKernels"]),
        .executableTarget(name: "pedigree", dependencies: ["Pedigree"]),
        .executableTarget(name: "pedigree-samples", dependencies: ["Pedigree"], path: "Samples/MakeSamples"),
        .executableTarget(name: "audit-example", dependencies: ["Pedigree"], path: "Samples/AuditExample"),
        .executableTarget(name: "PedigreeBenchmarks", dependencies: ["Pedigree", "CPedigreeKernels"], path: "Benchmarks/Sources"),
        .testTarget(name: "PedigreeFormatsTests", dependencies: ["PedigreeFormats", "CPedigreeKernels"]),
        .testTarget(name: "PedigreeEngineTests", dependencies: ["PedigreeEngine", "PedigreeFormats"]),
        .testTarget(name: "PedigreeCLITests", dependencies: ["Pedigree"]),
    ]
)
