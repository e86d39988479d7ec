import Foundation
import Testing

/// The spine's pairs of MANIFEST.json, run through the CLI as a process: the relation (and
/// parent) each must give at the spine stage, or a sharper answer of a later stage.
@Suite("compare on the fixtures")
struct CompareCommandTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let a: String, b: String
        let accepted: [String]
        let parent: String??
        var testDescription: String { "\(a) vs \(b)" }
    }

    /// Pairs with a spine expectation; relations of later stages are accepted as well.
    static let cases: [Case] = {
        let stages = ["spine", "quant", "deltas", "perm", "verify", "tree"]
        guard let pairs = SharedFixtures.manifest["pairs"] as? [[String: Any]] else { return [] }
        return pairs.compactMap { pair in
            guard pair["command"] == nil, let expect = pair["expect"] as? [String: Any], expect["spine"] != nil,
                  let a = pair["a"] as? String, let b = pair["b"] as? String else { return nil }
            var accepted = [String]()
            for stage in stages {
                if let one = expect[stage] as? String { accepted.append(one) }
                if let many = expect[stage] as? [String] { accepted += many }
            }
            let parent = (pair["parent"] as? [String: Any])?["spine"].map { $0 as? String }
            return Case(a: a, b: b, accepted: accepted, parent: parent)
        }
    }()

    @Test func manifestHasSpineCases() {
        #expect(Self.cases.count >= 15)
    }

    @Test(arguments: cases)
    func relation(_ c: Case) throws {
        let result = try CommandRunner.pedigree(["compare", SharedFixtures.fixture(c.a), SharedFixtures.fixture(c.b), "--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "pedigree.compare/1")
        let verdict = try #require(json["verdict"] as? [String: Any])
        let relation = try #require(verdict["relation"] as? String)
        #expect(c.accepted.contains(relation), "got \(relation), want one of \(c.accepted)")
        if let parent = c.parent {
            #expect((verdict["parent"] as? String) == parent, "parent \(String(describing: verdict["parent"]))")
        }
        #expect(verdict.keys.contains("parent") && verdict.keys.contains("parents") && verdict.keys.contains("pValue"))
        #expect(verdict["log10PValue"] is Double)
    }

    @Test func relatedSiblingShowsWhereTheEvidenceIs() throws {
        let result = try CommandRunner.pedigree(["compare", SharedFixtures.fixture("base"),
                                                 SharedFixtures.fixture("other_real_paraphrase_minilm_l3"), "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        func tensor(_ name: String) -> [String: Any]? { tensors.first { $0["a"] as? String == name } }
        // Embeddings strongly shared, the encoder layer only faintly (manifest: cosine 0.9959 and 0.0229).
        let embeddings = try #require(tensor("embeddings.word_embeddings.weight"))
        #expect(abs((embeddings["cosine"] as? Double ?? 0) - 0.995858) < 1e-4)
        #expect((embeddings["log10PValue"] as? Double ?? 0) < -50)
        let intermediate = try #require(tensor("encoder.layer.0.intermediate.dense.weight"))
        #expect(abs((intermediate["cosine"] as? Double ?? 0) - 0.02287) < 1e-4)
        let query = try #require(tensor("encoder.layer.0.attention.self.query.weight"))
        #expect((query["log10PValue"] as? Double ?? -100) > -3)
        let blocks = try #require(json["blocks"] as? [[String: Any]])
        #expect(blocks.contains { $0["name"] as? String == "embeddings" && ($0["log10PValue"] as? Double ?? 0) < -50 })
        #expect(blocks.contains { ($0["name"] as? String ?? "").hasSuffix(".attention") && ($0["log10PValue"] as? Double ?? -100) > -3 })
    }

    @Test func sameInputsGiveTheSameBytes() throws {
        let args = ["compare", SharedFixtures.fixture("base"), SharedFixtures.fixture("gguf/base-Q4_0"), "--format", "json"]
        let first = try CommandRunner.pedigree(args), second = try CommandRunner.pedigree(args)
        #expect(first.status == 0)
        #expect(first.standardOutput == second.standardOutput)
    }

    @Test func textReportPutsTheVerdictOnTop() throws {
        let result = try CommandRunner.pedigree(["compare", SharedFixtures.fixture("base"), SharedFixtures.fixture("base_fp16")])
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("verdict: conversion (parent: a)"))
        #expect(result.standardOutput.contains("encoder.layer.0.attention.self.query.weight"))
    }

    @Test func usageErrorsExit64() throws {
        let missing = try CommandRunner.pedigree(["compare", SharedFixtures.fixture("base")])
        #expect(missing.status == 64)
        #expect(missing.standardError.contains("usage: pedigree compare"))
        let badFormat = try CommandRunner.pedigree(["compare", "a", "b", "--format", "xml"])
        #expect(badFormat.status == 64)
        let unknown = try CommandRunner.pedigree(["frobnicate"])
        #expect(unknown.status == 64)
    }

    @Test func inputErrorsExit2WithOneLine() throws {
        let result = try CommandRunner.pedigree(["compare", SharedFixtures.fixture("base"), SharedFixtures.path("malformed/safetensors/data_truncated.safetensors")])
        #expect(result.status == 2)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("pedigree: error: ") == true)
        #expect(lines.first?.hasSuffix("[truncated]") == true)
        #expect(result.standardOutput.isEmpty)
    }
}
