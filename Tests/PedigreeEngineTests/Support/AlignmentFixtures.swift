import Foundation
@testable import PedigreeEngine

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

/// The test data generator: the engine's own deterministic one.
typealias AlignmentRandom = SeededRandom
