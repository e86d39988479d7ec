import Foundation
import Testing
import PedigreeFormats
@testable import PedigreeEngine

/// The null of the whole compare pipeline (the plain hidden-permutation test, then the
/// residual-stream alignment on the pairs it calls unrelated): complete small models written to
/// disk and compared with `Comparator.compare`. The benchmark `PedigreeBenchmarks null-check`
/// runs the same check on 3000 pairs and every manifest pair, and prints the whole pipeline's
/// rate against the 2% bound; this test's few hundred pairs cannot certify that bound for a
/// test that really errs at 1% (2 or 3 false positives already put the upper end above 2%), so
/// it asserts what they can: the residual path adds no false positive (its Wilson upper end stays
/// below 2%), the whole rate is consistent with alpha (the lower end at or below it), every
/// descendant is detected far beyond it.
@Suite struct AlignmentPipelineNullTests {
    static let pairsPerKind = 55

    @Test func wholePipelineFalsePositiveRateIsConsistentWithAlpha() throws {
        var pools = [PipelineNullCheck.Shape.Family: [String: [Float]]]()
        pools[.bert] = try PipelineNullCheck.pools(from: Model.open(AlignmentFixtures.path("base")))
        pools[.llama] = try PipelineNullCheck.pools(from: Model.open(AlignmentFixtures.path("llama/base")))
        let f = AlignmentFixtures.path
        let shapes = [PipelineNullCheck.Shape(family: .llama, layers: 1, vocabulary: 64), PipelineNullCheck.Shape(family: .bert, layers: 1, vocabulary: 64)]
        let r = try PipelineNullCheck.run(
            shapes: shapes, pairsPerKind: Self.pairsPerKind, pools: pools,
            fixturePairs: [(f("base"), f("unrelated_random")), (f("llama/base"), f("llama/unrelated_same_data"))],
            fixtureDescendants: [("llama/base vs llama/finetune", f("llama/base"), f("llama/finetune"))],
            descendantsPerShape: 3, seed: 11)
        let residual = AlignmentNullCheck.wilson(Double(r.residualFalsePositives), Double(r.pairs))
        let lower = Self.wilsonLower(Double(r.plainFalsePositives + r.residualFalsePositives), Double(r.pairs))
        print(String(format: "pipeline null check: %d unrelated pairs, false positives at alpha %.2f: plain test %d, residual alignment %d (upper %.4f; residual agreement below alpha/2 on %d); whole rate %.4f, Wilson 95%% interval %.4f to %.4f; %d descendants, weakest log10 p %.1f (%@)",
                     r.pairs, r.alpha, r.plainFalsePositives, r.residualFalsePositives, residual.1, r.residualAgreementsBelowAlpha,
                     r.rate, lower, r.rateUpper95, r.descendants.count, r.weakestDescendantLog10P, r.weakestDescendant))
        #expect(r.pairs == 6 * Self.pairsPerKind + 2)
        #expect(r.kinds.count == 7)
        #expect(r.residualFalsePositives == 0, "\(r.falsePositivePairs)")
        #expect(residual.1 <= 0.02)
        #expect(lower <= r.alpha, "whole-pipeline rate \(r.rate) is above alpha: \(r.falsePositivePairs)")
        // The shared direction makes the agreement alone fire: the confirming tensors were exercised.
        #expect((r.kinds["llama shared-direction"]?.residualAgreementsBelowAlpha ?? 0) > 0)
        #expect(r.kinds["gaussian"] == nil && r.kinds["fixtures"]?.pairs == 2)
        #expect(r.kinds["fixtures"]?.plainFalsePositives == 0 && r.kinds["fixtures"]?.residualFalsePositives == 0)
        #expect(r.descendants.count == 2 * 3 * 4 + 1)
        #expect(r.missedDescendants.isEmpty, "\(r.missedDescendants)")
        #expect(r.weakestDescendantLog10P < -6)
        // Residual-permuted copies (with their heads permuted too) are found as such. (A copy with only
        // its heads permuted is related with a tiny p, but at this width DeltaJudge.lora may name
        // the head swap's rank-limited delta a LoRA before AlignmentJudge.permuted runs.)
        for d in r.descendants where d.name.contains("residual") {
            #expect(d.relation == (d.name.contains("fine-tuned") ? .derived : .permuted), "\(d.name): \(d.relation)")
        }
    }

    /// The lower end of the Wilson 95% interval of k/n.
    static func wilsonLower(_ k: Double, _ n: Double) -> Double {
        let z = 1.959963984540054, p = k / n
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return max(0, centre - half)
    }

    @Test func residualPermutedSyntheticCopyComesBackUnderTheInverse() {
        var random = SeededRandom(seed: 5)
        for family in [PipelineNullCheck.Shape.Family.llama, .bert] {
            let shape = PipelineNullCheck.Shape(family: family)
            let w = PipelineNullCheck.generate(shape, kind: "resampled", pools: ["norm": [0.5, 1, 2], "bias": [-1, 1], "norm-bias": [-1, 1]],
                                               profile: nil, random: &random)
            let p = random.permutation(shape.hidden)
            var inverse = [Int](repeating: 0, count: p.count)
            for (j, i) in p.enumerated() { inverse[i] = j }
            let permuted = PipelineNullCheck.residualPermuted(w, p)
            #expect(PipelineNullCheck.residualPermuted(permuted, inverse).values == w.values)
            // Every residual vector moved (norm gains and the writers' biases), nothing else of rank 1.
            for (i, t) in shape.tensors.enumerated() where t.shape.count == 1 {
                let moves = t.shape == [shape.hidden] && (t.name.contains("norm") || t.name.contains("LayerNorm") || t.name.contains("output.dense.bias"))
                #expect((permuted.values[i] != w.values[i]) == moves, "\(t.name)")
            }
        }
    }
}
