import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// The shared fixtures, for the verify and tree tests.
enum LineageFixtures {
    static let root: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()
    static func path(_ relative: String) -> String { root + "/" + relative }
    static var registry: ModelRegistry { get throws { try ModelRegistry.load(path("declared/models.json")) } }
}

@Suite struct VerifyClaimTests {
    @Test func modelCardAndWeakConfigClaims() throws {
        let claims = ClaimExtractor.claims(of: try Model.open(LineageFixtures.path("finetune"))).claims
        #expect(claims == [
            Claim(source: "README.md", keys: ["base_model", "base_model_relation"], bases: ["pedigree-fixtures/minilm-l6-base"], relation: .finetune),
            Claim(source: "config.json", keys: ["_name_or_path"], bases: ["nreimers/MiniLM-L6-H384-uncased"], relation: nil, strength: .weak),
        ])
    }

    @Test func ggufNameAndSourceAreWhatTheFileIsBaseModelIsAncestry() throws {
        let claims = ClaimExtractor.claims(of: try Model.open(LineageFixtures.path("gguf/finetune-Q4_0.gguf"))).claims
        #expect(claims.count == 2)
        #expect(claims[0] == Claim(source: "gguf", keys: ["general.name", "general.source.repo_url", "general.source.url"],
                                   bases: ["pedigree-fixtures/minilm-l6-base"], relation: .conversion))
        #expect(claims[1] == Claim(source: "gguf", keys: ["general.base_model.0.name"], bases: ["pedigree-fixtures/minilm-l6-base"], relation: nil))
        let llama = ClaimExtractor.claims(of: try Model.open(LineageFixtures.path("llama/gguf/finetune-Q4_K_M.gguf"))).claims
        #expect(llama.map(\.bases) == [["pedigree-fixtures/tiny-llama-base"], ["pedigree-fixtures/tiny-llama-base"]])
        #expect(llama.map(\.relation) == [.conversion, nil])
    }

    @Test func adapterAndMergeClaims() throws {
        let adapter = ClaimExtractor.claims(of: try Model.open(LineageFixtures.path("lora_adapter"))).claims
        #expect(adapter.map(\.source) == ["adapter_config.json", "README.md"])
        #expect(adapter.allSatisfy { $0.relation == .adapter && $0.bases == ["pedigree-fixtures/minilm-l6-base"] })

        let merge = ClaimExtractor.claims(of: try Model.open(LineageFixtures.path("merge_linear_50_50"))).claims
        let parents = ["pedigree-fixtures/minilm-l6-finetune", "pedigree-fixtures/minilm-l6-lora_merged"]
        #expect(merge[0] == Claim(source: "README.md", keys: ["base_model", "base_model_relation"], bases: parents, relation: .merge))
        #expect(merge[1] == Claim(source: "mergekit_config.yml", keys: ["merge_method linear", "models"], bases: parents, weights: [0.5, 0.5], relation: .merge))
    }

    @Test func mergeRecipeSlicesAndBaseModel() {
        let text = """
        slices:
          - sources:
              - model: org/a   # first
                layer_range: [0, 32]
              - model: "org/b"
                layer_range: [0, 32]
        merge_method: slerp
        base_model: org/a
        parameters:
          t: 0.5
        """
        let recipe = MergeRecipe.parse(text)
        #expect(recipe?.method == "slerp")
        #expect(recipe?.parents.map(\.model) == ["org/a", "org/b"])
        let weighted = MergeRecipe.parse("models:\n  - model: x/one\n    parameters:\n      weight: 0.3\n  - model: x/two\n    parameters:\n      density: 0.5\n      weight: 0.7\nmerge_method: ties\nbase_model: x/zero\n")
        let entries: [MergeRecipe.Entry] = [.init(model: "x/one", weight: 0.3), .init(model: "x/two", weight: 0.7), .init(model: "x/zero", weight: nil)]
        #expect(weighted?.parents == entries)
        #expect(MergeRecipe.parse("dtype: float16\n") == nil)
    }

    @Test func huggingFaceURLsBecomeIds() {
        #expect(ClaimExtractor.modelId(fromURL: "https://huggingface.co/org/name") == "org/name")
        #expect(ClaimExtractor.modelId(fromURL: "https://huggingface.co/org/name/tree/main") == "org/name")
        #expect(ClaimExtractor.modelId(fromURL: "org/name") == "org/name")
    }
}

@Suite struct VerifyRulesTests {
    static func verdict(_ relation: Relation, parent: String? = nil) -> Verdict {
        Verdict(relation: relation, parent: parent, log10PValue: relation == .unrelated ? -0.5 : -800, alpha: 0.01, method: "fisher", summary: "s", evidence: [])
    }

    /// Every claimed relation against every relation of verdicts.md section 1.
    @Test func everyRelationHasOneAnswer() {
        let claimed: [ClaimedRelation?] = [nil] + ClaimedRelation.allCases
        for c in claimed {
            #expect(ClaimRules.supporting(c).isDisjoint(with: ClaimRules.contradicting(c)))
            for r in Relation.allCases {
                let result = ClaimRules.judge(c, Self.verdict(r)).result
                if r == .unrelated || r == .related { #expect(result == .contradicted) }
                if r == .inconclusive { #expect(result == .inconclusive) }
            }
        }
        let table: [(ClaimedRelation?, Relation, ClaimResult)] = [
            (.adapter, .lora, .supported), (.adapter, .derived, .inconclusive), (.adapter, .finetune, .contradicted),
            (.finetune, .finetune, .supported), (.finetune, .lora, .supported), (.finetune, .derived, .supported),
            (.finetune, .quantized, .contradicted), (.finetune, .permuted, .contradicted),
            (.quantized, .quantized, .supported), (.quantized, .conversion, .contradicted), (.quantized, .derived, .contradicted),
            (.merge, .merge, .supported), (.merge, .derived, .inconclusive),
            (.conversion, .identical, .supported), (.conversion, .conversion, .supported), (.conversion, .quantized, .supported),
            (.conversion, .derived, .contradicted), (.conversion, .finetune, .contradicted),
            (nil, .permuted, .supported), (nil, .derived, .supported), (nil, .identical, .supported),
        ]
        for (c, r, want) in table { #expect(ClaimRules.judge(c, Self.verdict(r)).result == want, "\(String(describing: c)) vs \(r)") }
    }

    @Test func reversedDirectionContradicts() {
        #expect(ClaimRules.judge(.finetune, Self.verdict(.derived, parent: "b")).result == .contradicted)
        #expect(ClaimRules.judge(.quantized, Self.verdict(.quantized, parent: "b")).result == .contradicted)
        #expect(ClaimRules.judge(.quantized, Self.verdict(.quantized, parent: "a")).result == .supported)
    }

    @Test func modelResultCombines() {
        #expect(ClaimResult.combine([.supported, .contradicted, .inconclusive]) == .contradicted)
        #expect(ClaimResult.combine([.supported, .inconclusive]) == .inconclusive)
        #expect(ClaimResult.combine([.supported, .supported]) == .supported)
        #expect(ClaimResult.combine([]) == .inconclusive)
    }
}

@Suite struct VerifyRegistryTests {
    @Test func relativePathsResolveAgainstTheFile() throws {
        let registry = try LineageFixtures.registry
        let base = try #require(registry.path(of: "pedigree-fixtures/minilm-l6-base"))
        #expect(base == URL(fileURLWithPath: LineageFixtures.path("base")).standardizedFileURL.path)
        #expect(registry.path(of: "https://huggingface.co/pedigree-fixtures/tiny-llama-base") == registry.path(of: "pedigree-fixtures/tiny-llama-base"))
        #expect(registry.path(of: "nreimers/MiniLM-L6-H384-uncased") == nil)
    }

    @Test func invalidFilesAreInputErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in [("list.json", "[\"a\"]"), ("number.json", "{\"a\": 1}"), ("broken.json", "{\"a\": "), ("twice.json", "{\"a\": \"x\", \"a\": \"y\"}")] {
            let file = folder.appendingPathComponent(name).path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(throws: ReadError.self) { try ModelRegistry.load(file) }
            do { _ = try ModelRegistry.load(file) } catch { #expect(error.code == .modelsFileInvalid) }
        }
        do { _ = try ModelRegistry.load(folder.appendingPathComponent("absent.json").path) } catch { #expect(error.code == .notFound) }
    }
}

/// Claims on models written here with the project's writer: a derived child whose card names
/// the base (true), an independent model whose card names the same base (false).
@Suite struct VerifyWrittenFamilyTests {
    static func matrix(_ seed: UInt64, _ count: Int, noiseOf base: [Float]? = nil, scale: Float = 0.05) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> Float {   // uniform in [-1, 1), then roughly normal by summing four
            var s: Float = 0
            for _ in 0 ..< 4 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                s += Float(state >> 40) / Float(1 << 24) * 2 - 1
            }
            return s * 0.5
        }
        return (0 ..< count).map { i in (base?[i] ?? 0) + next() * (base == nil ? 1 : scale) }
    }

    static func write(_ folder: URL, _ tensors: [String: [Float]], card: String?) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let list = tensors.sorted { $0.key < $1.key }.map { name, values in
            SafetensorsWriter.Tensor(name: name, dtype: .f32, shape: [64, 64], data: values.withUnsafeBytes { Array($0) })
        }
        try SafetensorsWriter.write(list, to: folder.appendingPathComponent("model.safetensors").path)
        if let card { try card.write(to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8) }
    }

    @Test func trueClaimSupportedFalseClaimContradicted() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-verify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let names = (0 ..< 2).flatMap { ["model.layers.\($0).mlp.up_proj.weight", "model.layers.\($0).self_attn.q_proj.weight"] }
        var base = [String: [Float]](), child = [String: [Float]](), other = [String: [Float]]()
        for (i, name) in names.enumerated() {
            base[name] = Self.matrix(UInt64(i + 1), 64 * 64)
            child[name] = Self.matrix(UInt64(i + 100), 64 * 64, noiseOf: base[name])
            other[name] = Self.matrix(UInt64(i + 200), 64 * 64)
        }
        let card = "---\nbase_model: test/base\nbase_model_relation: finetune\n---\n"
        try Self.write(root.appendingPathComponent("base"), base, card: nil)
        try Self.write(root.appendingPathComponent("child"), child, card: card)
        try Self.write(root.appendingPathComponent("other"), other, card: card)
        let modelsFile = root.appendingPathComponent("models.json")
        try "{\"test/base\": \"base\", \"test/child\": \"child\"}".write(to: modelsFile, atomically: true, encoding: .utf8)
        let options = VerifyOptions(registry: try ModelRegistry.load(modelsFile.path))

        let supported = try Verifier.verify(try Model.open(root.appendingPathComponent("child").path), options: options)
        #expect(supported.result == .supported, "\(supported.summary)")
        #expect(supported.claims.first?.bases.first?.relationFound == .derived || supported.claims.first?.bases.first?.relationFound == .finetune)
        #expect(supported.schema == "pedigree.verify/1")

        let contradicted = try Verifier.verify(try Model.open(root.appendingPathComponent("other").path), options: options)
        #expect(contradicted.result == .contradicted, "\(contradicted.summary)")
        #expect(contradicted.claims.first?.bases.first?.relationFound == .unrelated)

        // A base that is not known: inconclusive, and the known models the weights descend from.
        var unknown = options
        unknown.claimedBase = "test/absent"
        let missing = try Verifier.verify(try Model.open(root.appendingPathComponent("child").path), options: unknown)
        #expect(missing.result == .inconclusive)
        #expect(missing.derivesFrom?.map(\.id) == ["test/base"])

        // --claimed-base as a path that cannot be opened is an input error.
        var bad = options
        bad.claimedBase = root.appendingPathComponent("models.json").path
        #expect(throws: ReadError.self) { try Verifier.verify(try Model.open(root.appendingPathComponent("child").path), options: bad) }
    }
}
