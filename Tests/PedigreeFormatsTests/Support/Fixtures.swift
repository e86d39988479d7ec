import Foundation

/// Where the shared fixtures live: `../shared/fixtures` beside the repository.
enum Fixtures {
    static let root: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    /// The absolute path of a fixture, e.g. `path("gguf/base-Q8_0.gguf")`.
    static func path(_ relative: String) -> String { root + "/" + relative }

    /// The bytes of a fixture file.
    static func data(_ relative: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(relative))) }
}

/// Writes `bytes` to a fresh temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], name: String = "test.bin") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}
