import Foundation

/// The empirical check of the null (issue item "check the null"): unrelated pairs of MLP layers
/// built from many seeds must be called related at most at the rate alpha, and copies (permuted,
/// permuted and rescaled, permuted with fine-tune noise) must be detected far beyond it.
///
/// Both tests run on every pair: the hidden-permutation test over the residual-stream units
/// (`HiddenPermutationTest`, joint over the layer's input and output weights) and the
/// alignment's agreement test (`UnitAlignment`).
public enum AlignmentNullCheck {
    public struct Result: Sendable, Codable, Equatable {
        public var pairs: Int
        public var alpha: Double
        /// Unrelated pairs with p < alpha, per test.
        public var residualFalsePositives: Int
        public var alignmentFalsePositives: Int
        /// Wilson 95% interval of the larger of the two rates.
        public var rate: Double
        public var rateUpper95: Double
        /// Descendant pairs tried, and the largest (weakest) log10 p among them per test.
        public var descendants: Int
        public var weakestDescendantLog10PResidual: Double
        public var weakestDescendantLog10PAlignment: Double
        /// Unrelated pairs per kind of generator.
        public var kinds: [String: Int]
    }

    typealias Random = SeededRandom

    /// One model's layer: input weights (units × width) and output weights stored as units × width
    /// (columns of the [width, units] matrix).
    struct Layer { var input: [Float]; var output: [Float] }

    /// Runs `pairs` unrelated pairs (`units` hidden units, residual `width`) and a set of
    /// descendants. `pools` are value distributions of trained tensors to resample from (one
    /// generator per pool, beside fresh Gaussian initialisations).
    public static func run(pairs: Int, units n: Int, width h: Int, pools: [String: [Float]] = [:],
                           alpha: Double = 0.01, seed: UInt64 = 1) -> Result {
        var random = Random(seed: seed)
        let kinds = ["gaussian"] + pools.keys.sorted()
        func make(_ kind: String) -> Layer {
            if kind == "gaussian" {
                return Layer(input: (0 ..< n * h).map { _ in random.gaussian() }, output: (0 ..< n * h).map { _ in random.gaussian() })
            }
            let pool = pools[kind]!
            return Layer(input: (0 ..< n * h).map { _ in pool[Int(random.next() % UInt64(pool.count))] },
                         output: (0 ..< n * h).map { _ in pool[Int(random.next() % UInt64(pool.count))] })
        }
        var residualFP = 0, alignmentFP = 0
        var perKind = [String: Int]()
        for i in 0 ..< pairs {
            let kind = kinds[i % kinds.count]
            perKind[kind, default: 0] += 1
            let (r, al) = test(make(kind), make(kind), units: n, width: h)
            if r < log10(alpha) { residualFP += 1 }
            if al < log10(alpha) { alignmentFP += 1 }
        }
        // Descendants: permuted copy, permuted and rescaled (c = 3), permuted with noise of 0.3 σ.
        var weakestR = -Double.infinity, weakestA = -Double.infinity
        var descendants = 0
        for kind in kinds {
            for variant in 0 ..< 3 {
                let a = make(kind)
                let pi = random.permutation(n)
                var b = Layer(input: [Float](repeating: 0, count: n * h), output: [Float](repeating: 0, count: n * h))
                for j in 0 ..< n { for k in 0 ..< h {
                    var x = a.input[pi[j] * h + k], y = a.output[pi[j] * h + k]
                    if variant == 1 { x *= 3; y /= 3 }
                    if variant == 2 { x += 0.3 * random.gaussian() * rms(a.input); y += 0.3 * random.gaussian() * rms(a.output) }
                    b.input[j * h + k] = x; b.output[j * h + k] = y
                } }
                let (r, al) = test(a, b, units: n, width: h)
                weakestR = max(weakestR, r); weakestA = max(weakestA, al)
                descendants += 1
            }
        }
        let worst = Double(max(residualFP, alignmentFP))
        let (rate, upper) = wilson(worst, Double(pairs))
        return Result(pairs: pairs, alpha: alpha, residualFalsePositives: residualFP, alignmentFalsePositives: alignmentFP,
                      rate: rate, rateUpper95: upper, descendants: descendants,
                      weakestDescendantLog10PResidual: weakestR, weakestDescendantLog10PAlignment: weakestA, kinds: perKind)
    }

    static func rms(_ x: [Float]) -> Float {
        Float((x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))).squareRoot())
    }

    /// log10 p of the residual-stream test (joint over both weights, no alignment: a permuted copy
    /// hides from it) and of the alignment's agreement test.
    static func test(_ a: Layer, _ b: Layer, units n: Int, width h: Int) -> (Double, Double) {
        // Residual stream: units are the width axis, positions the hidden units.
        var joint = JointPermutationAccumulator(units: h)
        for (x, y) in [(a.input, b.input), (a.output, b.output)] {
            var sa = [Float](repeating: 0, count: n * h), sb = sa
            for p in 0 ..< n { for u in 0 ..< h { sa[u * n + p] = x[p * h + u]; sb[u * n + p] = y[p * h + u] } }
            if let s = HiddenPermutationTest.statistic(of: HiddenSample(units: h, positions: n, joint: true, a: sa, b: sb)) {
                joint.add(s)
            }
        }
        let residual = joint.statistic?.log10PValue ?? 0
        let layer = UnitAlignment.align(block: "mlp", units: n, tensors: [
            UnitTensor(a: "up", b: "up", side: .input, width: h, valuesA: a.input, valuesB: b.input, format: .f32),
            UnitTensor(a: "down", b: "down", side: .output, width: h, valuesA: a.output, valuesB: b.output, format: .f32),
        ])
        return (residual, layer.log10PValue)
    }

    /// The rate k/n and the upper end of its Wilson 95% interval.
    public static func wilson(_ k: Double, _ n: Double) -> (Double, Double) {
        guard n > 0 else { return (0, 1) }
        let z = 1.959963984540054, p = k / n
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return (p, centre + half)
    }
}
