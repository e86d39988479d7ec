import Foundation

/// Runs the built `pedigree` executable as a process, as a user would.
enum CommandRunner {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The built executable `name` beside the test bundle (SwiftPM puts every product of a
    /// configuration in one folder), or nil.
    static func executable(_ name: String) -> URL? {
        var folders = [URL]()
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        folders += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        folders.append(Bundle.main.bundleURL)
        return folders.map { $0.appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `pedigree arguments` to completion.
    static func pedigree(_ arguments: [String]) throws -> Result {
        let binary = executable("pedigree") ?? Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("pedigree")
        return try run(binary, arguments)
    }

    /// Runs `executable arguments` to completion; output goes through temporary files, so a large
    /// output cannot block the child.
    static func run(_ executable: URL, _ arguments: [String]) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus,
                      standardOutput: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      standardError: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}

/// The shared fixtures, at `../shared/fixtures` beside the repository.
enum SharedFixtures {
    static let root: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// MANIFEST.json, parsed.
    nonisolated(unsafe) static let manifest: [String: Any] = {
        guard let data = FileManager.default.contents(atPath: path("MANIFEST.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }()

    /// The path of fixture `id` (a manifest id such as `gguf/base-Q8_0`, or a relative path).
    static func fixture(_ id: String) -> String {
        let fixtures = manifest["fixtures"] as? [String: Any]
        if let entry = fixtures?[id] as? [String: Any], let relative = entry["path"] as? String { return path(relative) }
        return path(id)
    }
}
