import Foundation

/// Paths of the shared fixtures (`../shared/fixtures` beside the repository) and the manifest.
enum AlignmentFixtures {
    static let root: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// `fixtures[name].facts[key]` of MANIFEST.json.
    static func fact(_ fixture: String, _ key: String) throws -> Any? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("MANIFEST.json")))
        let manifest = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let fixtures = manifest?["fixtures"] as? [String: Any]
        let facts = (fixtures?[fixture] as? [String: Any])?["facts"] as? [String: Any]
        return facts?[key]
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-align-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }
}

/// A small deterministic generator (SplitMix64) for test data.
struct AlignmentRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func gaussian() -> Float {
        let u = max(uniform(), 1e-300), v = uniform()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
    mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0 ..< n)
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Int(next() % UInt64(i + 1))) }
        return p
    }
}
