import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// The delta analysis on the fixtures: lora_merged is rank 8 on query/value with every other
/// tensor unchanged, finetune is dense; the parent of a merged LoRA is read in both directions.
@Suite struct DeltaFixtureTests {
    static func analyse(_ a: String, _ b: String) throws -> LoRAReport {
        let ma = try DeltaFixtures.open(a), mb = try DeltaFixtures.open(b)
        return DeltaAnalysis.analyse(ma, mb, pairs: TensorPairing.pair(ma, mb).pairs)
    }

    @Test func bertLoRAMergedIsRank8OnQueryAndValue() throws {
        let r = try Self.analyse("base", "lora_merged")
        #expect(r.classification == "lora")
        #expect(r.rank == 8)
        #expect(r.targets == ["attention.self.query", "attention.self.value"])
        #expect(r.untouchedUnchanged == true)
        #expect(r.convertedTensors == 19)   // F32 -> F16, every other tensor (MANIFEST: bit-identical to base_fp16)
        #expect(r.direction?.parent == "a")
        // MANIFEST: top singular values of the stored F16 query delta.
        let query = try #require(r.tensors.first { $0.a == "encoder.layer.0.attention.self.query.weight" })
        let expected = [1.138411, 0.88681, 0.647141, 0.363506, 0.294149, 0.274776, 0.224853, 0.210519]
        let values = try #require(query.spectrum).singularValues
        // (MANIFEST takes the delta against the F16 cast of base, this one against base itself: 5e-4 apart at most)
        for (got, want) in zip(values, expected) { #expect(Swift.abs(got - want) <= 5e-4 * want) }
        // The 9th value is the F16 rounding floor (0.001338): a sketch sees it, slightly low.
        #expect(values[8] > 0.0008 && values[8] <= 0.001338 * 1.01)
        #expect(query.relL2.map { Swift.abs($0 - 0.04638) < 1e-4 } == true)
    }

    @Test func bertLoRADirectionReverses() throws {
        let r = try Self.analyse("lora_merged", "base")
        #expect(r.classification == "lora")
        #expect(r.direction?.parent == "b")
    }

    @Test func llamaLoRAMergedIsRank8OnQVDown() throws {
        let r = try Self.analyse("llama/base", "llama/lora_merged")
        #expect(r.classification == "lora")
        #expect(r.rank == 8)
        #expect(Set(r.targets) == ["self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"])
        #expect(r.bitIdenticalTensors == 15)   // MANIFEST n_bit_identical_to_base
        #expect(r.direction?.parent == "a")
        let reversed = try Self.analyse("llama/lora_merged", "llama/base")
        #expect(reversed.direction?.parent == "b")
    }

    @Test(arguments: ["finetune", "llama/finetune"])
    func finetuneIsDense(_ child: String) throws {
        let r = try Self.analyse(child.hasPrefix("llama") ? "llama/base" : "base", child)
        #expect(r.classification == "finetune")
        #expect(r.rank == nil)
        #expect(r.direction?.parent == nil)
        let matrices = r.tensors.filter { $0.kind == .matrix }
        #expect(matrices.allSatisfy { $0.status == "full-rank" })
    }

    @Test func quantizationRoundTripIsNotAFinetune() throws {
        // Q4_0 noise is unstructured (s1 at the Marchenko-Pastur edge): never a fine-tune.
        let r = try Self.analyse("base", "dequantized_q4_0")
        #expect(r.classification != "finetune")
    }

    @Test func moduleNamesDropTheLayer() {
        #expect(DeltaAnalysis.moduleName("encoder.layer.0.attention.self.query.weight") == "attention.self.query")
        #expect(DeltaAnalysis.moduleName("model.layers.1.mlp.down_proj.weight") == "mlp.down_proj")
        #expect(DeltaAnalysis.moduleName("lm_head.weight") == "lm_head")
    }
}
