import Foundation
import Pedigree
import Testing

/// The sample family: `pedigree-samples` writes the same bytes on every run, and the library
/// judges each member's relation to the base as the family intends.
@Suite struct SamplesTests {
    /// The built `pedigree-samples` beside the test bundle, or nil.
    static func sampleMaker() -> URL? { CommandRunner.executable("pedigree-samples") }

    /// Runs the sample maker into a fresh temporary folder and returns it.
    static func makeFamily(_ maker: URL) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-samples-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = maker
        process.arguments = [folder.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "pedigree-samples exited with \(process.terminationStatus)")
        return folder
    }

    /// Every regular file under `folder`, by path relative to it.
    static func files(in folder: URL) throws -> [String: Data] {
        var result = [String: Data]()
        let root = folder.standardizedFileURL.path
        for case let url as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)! {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
            result[String(url.standardizedFileURL.path.dropFirst(root.count + 1))] = try Data(contentsOf: url)
        }
        return result
    }

    @Test func familyIsDeterministicAndJudgedAsMade() throws {
        let maker = try #require(Self.sampleMaker(), "pedigree-samples is not built beside the tests (run `swift build` first)")
        let first = try Self.makeFamily(maker), second = try Self.makeFamily(maker)
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }

        let a = try Self.files(in: first), b = try Self.files(in: second)
        #expect(a.keys.sorted() == [
            "base-Q8_0.gguf", "base/config.json", "base/model.safetensors",
            "finetune/README.md", "finetune/config.json", "finetune/model.safetensors",
            "unrelated/config.json", "unrelated/model.safetensors",
        ])
        for (name, bytes) in a { #expect(b[name] == bytes, "\(name) differs between two runs") }
        #expect(a.values.reduce(0) { $0 + $1.count } < 8 << 20, "the family should stay a few MB")

        let base = first.appendingPathComponent("base").path
        func verdict(_ other: String) throws -> Verdict {
            try Pedigree.compare(base, first.appendingPathComponent(other).path).verdict
        }
        let finetune = try verdict("finetune")
        #expect(finetune.relation == .derived, "\(finetune.summary)")
        let unrelated = try verdict("unrelated")
        #expect(unrelated.relation == .unrelated, "\(unrelated.summary)")
        let quantized = try verdict("base-Q8_0.gguf")
        #expect(quantized.relation == .quantized, "\(quantized.summary)")
        #expect(quantized.parent == "a")

        let card = try Pedigree.open(first.appendingPathComponent("finetune").path).lineage
        #expect(card.contains(LineageClaim(source: "README.md", key: "base_model", value: "pedigree-samples/base")))
        #expect(card.contains(LineageClaim(source: "README.md", key: "base_model_relation", value: "finetune")))
    }
}
