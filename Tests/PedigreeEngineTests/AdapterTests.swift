import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// PEFT adapters: keys, scaling, the merged check, unmatched keys, and the extract-lora round trip.
@Suite struct AdapterTests {
    @Test func keysAndScaling() throws {
        let adapter = PEFTAdapter(try DeltaFixtures.open("lora_adapter"))
        #expect(adapter.r == 8 && adapter.loraAlpha == 16)
        #expect(adapter.modules.map(\.path) == ["encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value"])
        #expect(adapter.modules.allSatisfy { $0.a?.shape == [8, 384] && $0.b?.shape == [384, 8] })
        #expect(adapter.scaling(for: "encoder.layer.0.attention.self.query").scaling == 2)   // MANIFEST scaling_alpha_over_r
        #expect(PEFTAdapter.parse("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight")?.0 == "model.layers.0.self_attn.q_proj")
        #expect(PEFTAdapter.parse("base_model.model.embed_tokens.lora_embedding_B")?.2 == true)
        #expect(PEFTAdapter.parse("base_model.model.classifier.weight") == nil)
        #expect(PEFTAdapter.matches("q_proj", "model.layers.0.self_attn.q_proj"))
        #expect(!PEFTAdapter.matches("proj", "model.layers.0.self_attn.q_proj"))
        #expect(PEFTAdapter.matches("layers\\.1\\..*v_proj", "model.layers.1.self_attn.v_proj"))
    }

    @Test func rankPatternAndRslora() throws {
        let dir = try DeltaFixtures.temporaryFolder()
        _ = try DeltaFixtures.model([("base_model.model.x.q.lora_A.weight", [4, 3], [Float](repeating: 1, count: 12)),
                                     ("base_model.model.x.q.lora_B.weight", [2, 4], [Float](repeating: 1, count: 8))], in: dir)
        try FileManager.default.moveItem(atPath: dir + "/model.safetensors", toPath: dir + "/adapter_model.safetensors")
        let config = #"{"r": 8, "lora_alpha": 16, "use_rslora": true, "rank_pattern": {"q": 4}, "alpha_pattern": {"x\\.q": 8}}"#
        try Data(config.utf8).write(to: URL(fileURLWithPath: dir + "/adapter_config.json"))
        let adapter = PEFTAdapter(try Model.open(dir))
        let s = adapter.scaling(for: "x.q")
        #expect(s.rank == 4 && s.alpha == 8 && s.scaling == 4)   // 8 / sqrt(4)
        #expect(adapter.scaling(for: "x.k").scaling == 16 / 8.0.squareRoot())
    }

    @Test func adapterAgainstItsBase() throws {
        let c = AdapterAnalysis.compare(try DeltaFixtures.open("base"), try DeltaFixtures.open("lora_adapter"))
        #expect(c.verdict.relation == .lora)
        #expect(c.verdict.parent == "a")
        let report = try #require(c.lora)
        #expect(report.rank == 8)
        #expect(report.targets == ["attention.self.query", "attention.self.value"])
        #expect(report.adapter?.scaling == 2)
        #expect(report.adapter?.unmatchedKeys.isEmpty == true)
        // MANIFEST: layer-0 rel L2 of the merged update, query 0.0464, value 0.0945.
        let rel = report.adapter!.modules.compactMap(\.relL2)
        #expect(rel.count == 2 && Swift.abs(rel[0] - 0.0464) < 5e-4 && Swift.abs(rel[1] - 0.0945) < 5e-4)
        // Swapped sides: the base is still the parent.
        let swapped = AdapterAnalysis.compare(try DeltaFixtures.open("lora_adapter"), try DeltaFixtures.open("base"))
        #expect(swapped.verdict.relation == .lora && swapped.verdict.parent == "b")
    }

    @Test func unmatchedKeysAreFindings() throws {
        let dir = try DeltaFixtures.temporaryFolder()
        _ = try DeltaFixtures.model([("base_model.model.encoder.layer.0.attention.self.nothing.lora_A.weight", [8, 384], [Float](repeating: 0.1, count: 8 * 384)),
                                     ("base_model.model.encoder.layer.0.attention.self.nothing.lora_B.weight", [384, 8], [Float](repeating: 0.1, count: 8 * 384))], in: dir)
        try FileManager.default.moveItem(atPath: dir + "/model.safetensors", toPath: dir + "/adapter_model.safetensors")
        try Data(#"{"r": 8, "lora_alpha": 16}"#.utf8).write(to: URL(fileURLWithPath: dir + "/adapter_config.json"))
        let c = AdapterAnalysis.compare(try DeltaFixtures.open("base"), try Model.open(dir))
        #expect(c.verdict.relation == .inconclusive)
        #expect(c.findings.contains { $0.code == "adapter-key-unmatched" })
        #expect(c.lora?.adapter?.unmatchedKeys.count == 2)
    }

    @Test(arguments: [("base", "lora_merged", "lora_adapter", true), ("base", "finetune", "lora_adapter", false),
                      ("llama/base", "llama/lora_merged", "llama/lora_adapter", true), ("llama/base", "llama/finetune", "llama/lora_adapter", false)])
    func mergedCheck(_ base: String, _ merged: String, _ adapter: String, _ passes: Bool) throws {
        let (check, _, findings) = AdapterAnalysis.check(base: try DeltaFixtures.open(base), merged: try DeltaFixtures.open(merged),
                                                         adapter: try DeltaFixtures.open(adapter))
        #expect(check.passed == passes)
        if passes {
            #expect(check.maxErrorEpsilon <= 0.51 && check.untouchedMaxErrorEpsilon <= 0.5)
            #expect(check.tensors.count == (base == "base" ? 2 : 6))
        } else {
            #expect(check.maxErrorEpsilon > 10)
            #expect(findings.contains { $0.code == "adapter-check-failed" })
        }
    }

    @Test func extractRoundTripReproducesLoRAMerged() throws {
        let dir = try DeltaFixtures.temporaryFolder() + "/adapter"
        let base = try DeltaFixtures.open("base"), merged = try DeltaFixtures.open("lora_merged")
        let report = try LoRAExporter.extract(base: base, model: merged, options: .init(rank: 8), to: dir)
        #expect(report.targetModules == ["query", "value"])
        #expect(report.modules.map(\.status) == ["exported", "exported"])
        #expect(report.notLowRank.isEmpty)
        let written = try Model.open(dir)
        #expect(written.isAdapter)
        #expect(written.adapterConfig?["r"]?.intValue == 8)
        #expect(written.adapterConfig?["lora_alpha"]?.intValue == 8)
        // Merging the extracted adapter back gives lora_merged to F16 rounding.
        let (check, _, _) = AdapterAnalysis.check(base: base, merged: merged, adapter: written)
        #expect(check.passed)
        #expect(check.maxErrorEpsilon <= 1)
        #expect(report.roundTrip?.passed == true)
        // Rounded to F16, every value is within one ulp (at the tensor's largest magnitude) of the stored one.
        let m = try FloatMatrix.load(merged, merged.tensor(named: "encoder.layer.0.attention.self.query.weight")!)
        let w = try FloatMatrix.load(base, base.tensor(named: "encoder.layer.0.attention.self.query.weight")!)
        let peft = PEFTAdapter(written)
        let q = try #require(peft.modules.first { $0.path.hasSuffix("query") })
        let delta = PEFTAdapter.delta(a: try FloatMatrix.load(written, q.a!), b: try FloatMatrix.load(written, q.b!), scale: 1, transpose: false)
        var worst: Float = 0, exact = 0
        for i in 0 ..< m.count {
            let rounded = Float(Float16(w.values[i] + delta.values[i]))
            worst = max(worst, Swift.abs(rounded - m.values[i]))
            if rounded == m.values[i] { exact += 1 }
        }
        let largest = m.values.map { Swift.abs($0) }.max()!
        #expect(Double(worst) <= Spectrum.ulp(largest, format: .f16))
        #expect(Double(exact) / Double(m.count) > 0.8)
        // And it reads as an adapter of base.
        #expect(AdapterAnalysis.compare(base, written).verdict.relation == .lora)
    }

    @Test func writerRefusesTheReservedName() {
        #expect(throws: SafetensorsWriteError.self) {
            try SafetensorsWriter.serialize([SafetensorsWriter.Tensor(name: "__metadata__", dtype: .f32, shape: [1], data: [0, 0, 0, 0])])
        }
    }
}
