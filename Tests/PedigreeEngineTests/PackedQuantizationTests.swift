import Foundation
import Testing
@testable import PedigreeEngine
import PedigreeFormats

/// Float vs quantized-safetensors verdicts, and the once-quantized grid detection.
@Suite struct PackedQuantizationTests {
    static let folders = ["gptq-4bit-g64", "awq-4bit-g64", "bnb-nf4", "bnb-nf4-nodq", "bnb-fp4", "bnb-int8",
                          "fp8-per-tensor", "fp8-block", "compressed-tensors-pack-quantized"]

    @Test(arguments: folders)
    func floatVsQuantizedIsQuantized(_ folder: String) throws {
        let float = try Model.open(PackedFixtures.path("quantized-safetensors/float"))
        let quantized = try Model.open(PackedFixtures.path("quantized-safetensors/" + folder))
        let c = Comparator.compare(float, quantized)
        #expect(c.verdict.relation == .quantized, "\(folder): \(c.verdict.summary)")
        #expect(c.verdict.parent == "a")
        #expect(!c.findings.contains { $0.code == "only-in-a" || $0.code == "only-in-b" })
        if folder.hasPrefix("awq") { #expect(c.findings.contains { $0.code == "awq-rescaled-norms" }) }
        // Reversed, the float side is still the parent.
        if folder == "bnb-int8" {
            let reversed = Comparator.compare(quantized, float)
            #expect(reversed.verdict.relation == .quantized && reversed.verdict.parent == "b")
        }
    }

    @Test func roundToNearestCodesReproduce() throws {
        let float = try Model.open(PackedFixtures.path("quantized-safetensors/float"))
        let quantized = try Model.open(PackedFixtures.path("quantized-safetensors/bnb-nf4-nodq"))
        let name = "model.layers.0.self_attn.k_proj.weight"
        let p = try #require(quantized.tensor(named: name)), f = try #require(float.tensor(named: name))
        guard case .packed(let layout) = p.type else { Issue.record("not packed"); return }
        let check = try PackedAnalysis.check(float: f, in: float, packed: p, in: quantized, layout: layout)
        #expect(check.elements == 32 * 128 && check.matchingCodes == check.elements)
        #expect(check.errorRatio > 0.8 && check.errorRatio < 1.2)
    }

    @Test func gptqFromAnotherModelFails() throws {
        // The GPTQ file against a float model it was not made from: not quantized.
        let other = try Model.open(PackedFixtures.path("quantized-safetensors/awq-4bit-g64"))
        let gptq = try Model.open(PackedFixtures.path("quantized-safetensors/gptq-4bit-g64"))
        let c = Comparator.compare(gptq, other)
        #expect(c.verdict.relation != .quantized)
    }

    @Test func dequantizedQ4_0IsQuantizedFromBase() throws {
        let base = try Model.open(PackedFixtures.path("base"))
        let once = try Model.open(PackedFixtures.path("dequantized_q4_0"))
        let c = Comparator.compare(base, once)
        #expect(c.verdict.relation == .quantized, "\(c.verdict.summary)")
        #expect(c.verdict.parent == "a")
        #expect(c.verdict.summary.contains("Q4_0-like, block 32"))
    }

    @Test func gridDetectionCatchesQ4_0() throws {
        let model = try Model.open(PackedFixtures.path("dequantized_q4_0"))
        let matrices = model.tensors.filter { $0.shape.count == 2 }
        #expect(matrices.count == 9)
        for t in matrices {
            let s = try #require(try GridDetector.signature(of: t, in: model))
            #expect(s.onceQuantized && s.like == "Q4_0" && s.blockSize == 32 && s.bits == 4 && s.symmetric == true, "\(t.name): \(s)")
            #expect(s.description == "once quantized, Q4_0-like, block 32")
        }
    }

    @Test(arguments: ["base", "finetune", "base_fp16", "quantized-safetensors/float"])
    func plainFloatIsNotOnceQuantized(_ fixture: String) throws {
        let model = try Model.open(PackedFixtures.path(fixture))
        var checked = 0
        for t in model.tensors where t.shape.count == 2 {
            guard let s = try GridDetector.signature(of: t, in: model) else { continue }
            checked += 1
            #expect(!s.onceQuantized, "\(fixture) \(t.name): \(s.description)")
            #expect(s.onGridShare < 0.05)
        }
        #expect(checked > 0)
    }

    @Test func gridFitOnSyntheticBlocks() {
        // Q4_1-like: an affine 16-level grid per block of 32 (offset off the grid) is asymmetric.
        var values = [Float]()
        for b in 0 ..< 64 {
            let d = Float(0.01) * Float(1 + b % 5), m = Float(-0.07) - Float(b) * 0.0013
            for j in 0 ..< 32 { values.append(m + d * Float((j * 7 + b) % 16)) }
        }
        let s = GridDetector.signature(name: "t", values: values, rowLength: 256, precision: 0x1p-24)
        #expect(s.onceQuantized && s.bits == 4 && s.blockSize == 32 && s.symmetric == false && s.like == "Q4_1")
    }
}
