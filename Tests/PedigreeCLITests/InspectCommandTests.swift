import Foundation
import Testing

/// `pedigree inspect` as a process: every malformed file as MANIFEST.json states, and the
/// header facts of real files.
@Suite("inspect on the fixtures")
struct InspectCommandTests {
    struct Malformed: CustomTestStringConvertible, Sendable {
        let path: String, expect: String
        var testDescription: String { path }
    }

    static let malformed: [Malformed] = ((SharedFixtures.manifest["malformed"] as? [[String: Any]]) ?? []).compactMap {
        guard let path = $0["path"] as? String, let expect = $0["expect"] as? String else { return nil }
        return Malformed(path: path, expect: expect)
    }

    @Test func manifestListsMalformedFiles() { #expect(Self.malformed.count >= 40) }

    @Test(arguments: malformed)
    func malformedFile(_ m: Malformed) throws {
        let result = try CommandRunner.pedigree(["inspect", SharedFixtures.path(m.path), "--format", "json"])
        let lines = result.standardError.split(separator: "\n")
        switch m.expect {
        case "error":
            #expect(result.status == 2)
            #expect(lines.count == 1)
            #expect(lines.first?.contains((m.path as NSString).lastPathComponent) == true)
            #expect(lines.first?.hasPrefix("pedigree: error: ") == true)
            #expect(result.standardOutput.isEmpty)
        case "lists-with-unknown":
            #expect(result.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let tensors = try #require(json["tensors"] as? [[String: Any]])
            #expect(tensors.contains { $0["type"] as? String == "unknown" && $0["typeId"] as? Int == 200 })
            #expect(tensors.contains { $0["type"] as? String == "F32" })
        case "lists-with-warning":
            #expect(result.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let findings = try #require(json["findings"] as? [[String: Any]])
            #expect(findings.contains { $0["severity"] as? String == "warning" })
        default:
            #expect(result.status == 0, "\(result.standardError)")
        }
    }

    @Test func lfsPointerIsNamed() throws {
        let result = try CommandRunner.pedigree(["inspect", SharedFixtures.path("malformed/safetensors/lfs_pointer/model.safetensors")])
        #expect(result.status == 2)
        #expect(result.standardError.contains("[git-lfs-pointer]"))
    }

    @Test func truncatedFileReportsBothLengths() throws {
        let result = try CommandRunner.pedigree(["inspect", SharedFixtures.path("malformed/safetensors/data_truncated.safetensors")])
        #expect(result.status == 2)
        let numbers = result.standardError.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count >= 2)
    }

    @Test func realGemmaExcerpt() throws {
        let result = try CommandRunner.pedigree(["inspect", SharedFixtures.fixture("real_gguf/gemma-3-270m-Q4_K_M-excerpt"), "--format", "json"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "pedigree.inspect/1")
        #expect(json["format"] as? String == "gguf")
        #expect(json["version"] as? Int == 3)
        #expect(json["architecture"] as? String == "gemma3")
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        let embedding = try #require(tensors.first { $0["name"] as? String == "token_embd.weight" })
        #expect((embedding["shape"] as? [Int])?.first == 512)
        let lineage = try #require(json["lineage"] as? [[String: Any]])
        #expect(lineage.contains { $0["key"] as? String == "general.name" })
    }

    @Test func hfDirectoryDeclaresItsLineage() throws {
        let result = try CommandRunner.pedigree(["inspect", SharedFixtures.fixture("lora_adapter"), "--format", "json"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let lineage = try #require(json["lineage"] as? [[String: Any]])
        let keys = Set(lineage.compactMap { $0["key"] as? String })
        #expect(keys.isSuperset(of: ["base_model_name_or_path", "r", "lora_alpha", "target_modules"]))
        let r = lineage.first { $0["key"] as? String == "r" }?["value"] as? String
        #expect(r == "8")
    }
}
