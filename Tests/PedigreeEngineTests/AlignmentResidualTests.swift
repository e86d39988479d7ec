import Foundation
import Testing
import PedigreeFormats
@testable import PedigreeEngine

/// Residual-stream alignment on copies of the fixture models whose hidden dimension was permuted
/// consistently across every tensor (the function unchanged), written to a temporary directory.
@Suite struct AlignmentResidualTests {
    /// `model` (or `source`'s tensors) with the residual axis permuted by `p` (b's unit j holds
    /// a's unit p[j]): embedding and input columns, output rows of the projections that write the
    /// stream, norm gains and biases, the biases of those projections.
    static func residualCopy(_ model: Model, _ p: [Int], also: (String, [Float], [Int]) -> [Float] = { _, v, _ in v }) throws -> String {
        let d = p.count
        let writers = ["o_proj", "down_proj", "attention.output.dense", "output.dense"]
        return try AlignmentHeadTests.copy(model) { name, v0, shape in
            let v = also(name, v0, shape)
            let writes = writers.contains { name.contains($0 + ".") }
            if shape == [d] {
                return name.lowercased().contains("norm") || (writes && !name.contains("intermediate")) ? p.map { v[$0] } : v
            }
            guard shape.count == 2 else { return v }
            var out = v
            let readsColumns = shape[1] == d && !name.contains("o_proj") && !name.contains("attention.output.dense")
            if readsColumns { out = AlignmentHeadTests.takeColumns(out, width: d, p) }
            if shape[0] == d && writes { out = AlignmentHeadTests.takeRows(out, width: shape[1], p) }
            return out
        }
    }

    @Test func residualPermutedCopiesArePermutedWithThePlantedPermutation() throws {
        for (fixture, d) in [("base", 384), ("llama/base", 256)] {
            let base = try Model.open(AlignmentFixtures.path(fixture))
            var random = AlignmentRandom(seed: 31)
            let p = random.permutation(d)
            let dir = try Self.residualCopy(base, p)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let copy = try Model.open(dir)
            // The plain test alone cannot see it: the hidden-permutation null is that very permutation.
            let pairing = TensorPairing.pair(base, copy)
            let streamed = PairStream.run(pairing.pairs, a: base, b: copy, options: CompareOptions())
            let plain = IndependenceJudge.judge(JudgeContext(a: base, b: copy, pairing: pairing, outcomes: streamed.outcomes,
                                                             joint: streamed.joint?.statistic, alpha: 0.01))
            #expect(plain.verdict.relation == .unrelated)
            let c = Comparator.compare(base, copy)
            #expect(c.verdict.relation == .permuted, "\(fixture): \(c.verdict.summary)")
            #expect(c.verdict.method == "residual-alignment")
            #expect(c.verdict.evidence.contains { $0.contains("decided at alpha/2 = 0.005 (Bonferroni)") })
            let residual = try #require(c.alignment?.residual)
            #expect(residual.permutation == p)
            #expect(residual.matchedUnits == d && residual.bestMatchAgreement == d)
            #expect(residual.log10PValue == Numbers.rounded(FixedPoints.log10AtLeast(d, units: d), places: 2))
            #expect(residual.permutationHead == Array(p.prefix(16)))
            let tensors = try #require(residual.tensors)
            #expect(tensors.allSatisfy { $0.equal && $0.maxAbsDiff == 0 })
            #expect(residual.sources.first?.contains(fixture == "base" ? "word_embeddings" : "embed_tokens") == true)
            #expect(residual.sources.last == (fixture == "base" ? "embeddings.position_embeddings.weight" : "lm_head.weight"))
        }
    }

    @Test func residualHeadsAndMLPPermutedTogetherArePermuted() throws {
        let base = try Model.open(AlignmentFixtures.path("llama/base"))
        var random = AlignmentRandom(seed: 32)
        let p = random.permutation(256)
        let units = random.permutation(512)
        let heads = [1, 0].flatMap { g in random.permutation(4).map { g * 4 + $0 } }
        let q = AlignmentHeadTests.headRows(heads, headDim: 32), kv = AlignmentHeadTests.headRows([1, 0], headDim: 32)
        let dir = try Self.residualCopy(base, p, also: { name, v, _ in
            let prefix = "model.layers.0."
            switch name {
            case prefix + "self_attn.q_proj.weight": return AlignmentHeadTests.takeRows(v, width: 256, q)
            case prefix + "self_attn.k_proj.weight", prefix + "self_attn.v_proj.weight": return AlignmentHeadTests.takeRows(v, width: 256, kv)
            case prefix + "self_attn.o_proj.weight": return AlignmentHeadTests.takeColumns(v, width: 256, q)
            case prefix + "mlp.gate_proj.weight", prefix + "mlp.up_proj.weight": return AlignmentHeadTests.takeRows(v, width: 256, units)
            case prefix + "mlp.down_proj.weight": return AlignmentHeadTests.takeColumns(v, width: 512, units)
            default: return v
            }
        })
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Comparator.compare(base, try Model.open(dir))
        #expect(c.verdict.relation == .permuted, "\(c.verdict.summary)")
        let report = try #require(c.alignment)
        #expect(report.residual?.permutation == p)
        #expect(report.layers.first { $0.block == "layers.0.mlp" }?.permutation == units)
        #expect(report.heads?.first { $0.block == "layers.0.attention" }?.permutation == heads)
        #expect(report.heads?.first { $0.block == "layers.0.attention" }?.kvPermutation == [1, 0])
        #expect(report.equalAfterAlignment)
    }

    @Test func fineTunedAndResidualPermutedIsDerivedWithItsParent() throws {
        let base = try Model.open(AlignmentFixtures.path("llama/base"))
        let finetune = try Model.open(AlignmentFixtures.path("llama/finetune"))
        var random = AlignmentRandom(seed: 33)
        let p = random.permutation(256)
        let dir = try Self.residualCopy(finetune, p)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Comparator.compare(base, try Model.open(dir))
        #expect(c.verdict.relation == .derived, "\(c.verdict.summary)")
        #expect(c.verdict.parent == "a")   // b has the added vocabulary rows
        #expect(c.alignment?.residual?.permutation == p)
        #expect(c.alignment?.equalAfterAlignment == false)
    }

    @Test func unrelatedPairsStayUnrelatedWithTheCheckReported() throws {
        for (x, y) in [("base", "unrelated_random"), ("llama/base", "llama/unrelated_same_data")] {
            let c = Comparator.compare(try Model.open(AlignmentFixtures.path(x)), try Model.open(AlignmentFixtures.path(y)))
            #expect(c.verdict.relation == .unrelated)
            let residual = try #require(c.alignment?.residual, "\(x) vs \(y)")
            #expect(residual.bestMatchAgreement < ResidualStreamAlignment.screen || (residual.log10PValue ?? 0) > -2)
            #expect(residual.tensors == nil)
            #expect(c.verdict.evidence.first?.hasPrefix("residual-stream") == true)
        }
    }
}
