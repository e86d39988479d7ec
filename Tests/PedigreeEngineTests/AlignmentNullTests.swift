import Foundation
import Testing
import PedigreeFormats
@testable import PedigreeEngine

@Suite struct AlignmentNullTests {
    /// 1200 unrelated pairs of small MLP layers (fresh Gaussian initialisations and weights
    /// resampled from trained fixture tensors), and descendants of each kind.
    @Test func falsePositiveRateIsConsistentWithAlpha() throws {
        let base = try Model.open(AlignmentFixtures.path("base"))
        var pools = [String: [Float]]()
        for name in ["encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.weight"] {
            let t = try #require(base.tensors.first { $0.name == name })
            var v = [Float](repeating: 0, count: t.rowCount * t.rowLength)
            try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try base.decodeRows(of: t, 0 ..< t.rowCount, into: p.baseAddress!) }
            pools["resampled " + name] = v
        }
        let r = AlignmentNullCheck.run(pairs: 1200, units: 32, width: 48, pools: pools, seed: 7)
        print(String(format: "null check: %d unrelated pairs, false positives at alpha %.2f: residual %d, alignment %d; rate %.4f, 95%% upper %.4f; %d descendants, weakest log10 p (alignment) %.1f",
                     r.pairs, r.alpha, r.residualFalsePositives, r.alignmentFalsePositives, r.rate, r.rateUpper95,
                     r.descendants, r.weakestDescendantLog10PAlignment))
        #expect(r.pairs >= 1000)
        #expect(r.rateUpper95 <= 0.02)
        #expect(r.weakestDescendantLog10PAlignment < -6)
    }

    @Test func wilsonInterval() {
        let (rate, upper) = AlignmentNullCheck.wilson(10, 1000)
        #expect(rate == 0.01)
        #expect(abs(upper - 0.01833) < 1e-4)   // Wilson upper for 10/1000
    }
}
