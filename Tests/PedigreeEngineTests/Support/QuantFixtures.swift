import Foundation

/// Paths of the shared fixtures (`../shared/fixtures` beside the repository), for the quantization tests.
enum QuantFixtures {
    static let root: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }
}
