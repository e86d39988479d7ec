import Foundation
import PedigreeEngine
import PedigreeFormats

/// `PedigreeBenchmarks alignment [units ...] [--null PAIRS]`: times of the exact linear assignment
/// (planted permutation under noise, and independent random similarities, the hard case), then
/// the empirical null check at larger shapes than the test's.
enum AlignmentBenchmark {
    static func run(_ arguments: [String]) {
        var sizes = [Int](), nullPairs = 1000
        var i = 0
        while i < arguments.count {
            if arguments[i] == "--null", i + 1 < arguments.count { nullPairs = Int(arguments[i + 1]) ?? nullPairs; i += 2; continue }
            if let n = Int(arguments[i]) { sizes.append(n) }
            i += 1
        }
        if sizes.isEmpty { sizes = [1536, 11008] }
        for n in sizes {
            for planted in [true, false] {
                var r = SeededRandom(seed: UInt64(n))
                var s = [Float](repeating: 0, count: n * n)
                for k in 0 ..< s.count { s[k] = 0.1 * r.roughGaussian() }
                let p = r.permutation(n)
                if planted { for row in 0 ..< n { s[row * n + p[row]] += 1 } }
                let start = Date()
                let a = LinearAssignment.maximize(s, n: n)
                let seconds = Date().timeIntervalSince(start)
                let recovered = planted ? (a.columnOfRow == p ? ", permutation recovered" : ", permutation NOT recovered") : ""
                print(String(format: "assignment %5d units, %@: %.3f s (edges %d, optimality checks %d%@)",
                             n, planted ? "planted permutation + noise" : "independent random      ", seconds, a.edges, a.checks, recovered))
            }
        }
        guard nullPairs > 0 else { return }
        var pools = [String: [Float]]()
        if let base = try? Model.open("../shared/fixtures/base") {
            for name in ["encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.weight"] {
                guard let t = base.tensors.first(where: { $0.name == name }) else { continue }
                var v = [Float](repeating: 0, count: t.rowCount * t.rowLength)
                let ok = v.withUnsafeMutableBufferPointer { p in (try? base.decodeRows(of: t, 0 ..< t.rowCount, into: p.baseAddress!)) != nil }
                if ok { pools["resampled " + name] = v }
            }
        }
        let start = Date()
        let r = AlignmentNullCheck.run(pairs: nullPairs, units: 256, width: 128, pools: pools, seed: 11)
        print(String(format: "null check (256 units, width 128): %d unrelated pairs %@, false positives at alpha %.2f: residual-stream test %d, alignment test %d; worst rate %.4f, 95%% CI upper %.4f; %d descendants, weakest log10 p (alignment) %.1f; %.1f s",
                     r.pairs, r.kinds.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "), r.alpha,
                     r.residualFalsePositives, r.alignmentFalsePositives, r.rate, r.rateUpper95, r.descendants,
                     r.weakestDescendantLog10PAlignment, Date().timeIntervalSince(start)))
    }
}

extension SeededRandom {
    /// Approximately normal (sum of four uniforms, centred and scaled): cheap for 10⁸ values.
    mutating func roughGaussian() -> Float {
        let x = next()
        let s = Int(x & 0xffff) + Int((x >> 16) & 0xffff) + Int((x >> 32) & 0xffff) + Int(x >> 48)
        return (Float(s) / 65535 - 2) * 1.7320508
    }
}
