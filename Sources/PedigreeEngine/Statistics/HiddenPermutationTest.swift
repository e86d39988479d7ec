import CPedigreeKernels

/// The independence test of Pedigree: correlation of two tensors against the null in which the
/// residual-stream basis of one model is an arbitrary permutation of the other's.
///
/// Under H0 (independent initialisation) the hidden basis of B is arbitrary whatever B was
/// trained on, so permuting B's hidden units gives an exact null (verdicts.md section 2); unlike
/// N(0, 1/n), it keeps the low-rank structure two models trained on the same data share.
/// For S(π) = Σ_j M[j, π(j)] with M = A_unitsᵀ·B_units, the mean and variance over all
/// permutations have closed forms (Hoeffding's combinatorial central limit theorem):
/// E = ΣM / d and Var = Σ D² / (d − 1), D the doubly centred M. The observed statistic is
/// S(identity) = Σ_j M[j, j]; z = (S − E) / √Var.
///
/// Tensors that share the residual stream share one permutation, so the whole-model statistic is
/// Σ_t (S_t − E_t)/σ_t with the exact variance of that sum, from C = Σ_t D_t / σ_t: a Stouffer
/// combination whose variance accounts for the dependence between tensors.
///
/// What it does not prove: the normal approximation is not exact far in the tail, and no
/// permutation test can honestly report p below 1/d!: reported p-values are bounded there.
public struct PermutationStatistic: Sendable {
    /// Units (d) the statistic permutes.
    public let units: Int
    /// (S − E) / σ.
    public let z: Double
    /// D / σ, units × units, row-major: the tensor's share of a joint statistic.
    let normalizedCentred: [Float]

    /// log10 of the upper-tail p-value of `z`, bounded below by −log10(d!).
    public var log10PValue: Double {
        max(NormalTail.log10Upper(z), -NormalTail.log10Factorial(units))
    }
}

public enum HiddenPermutationTest {
    /// The statistic of one sampled pair, or nil when the sample is degenerate (zero variance).
    public static func statistic(of sample: HiddenSample) -> PermutationStatistic? {
        let d = sample.units, n = sample.positions
        guard d >= 2, n >= 1 else { return nil }
        var m = [Float](repeating: 0, count: d * d)
        sample.a.withUnsafeBufferPointer { a in
            sample.b.withUnsafeBufferPointer { b in
                m.withUnsafeMutableBufferPointer { out in pdg_gram_ab(a.baseAddress!, b.baseAddress!, d, n, out.baseAddress!) }
            }
        }
        var rowMeans = [Double](repeating: 0, count: d), columnMeans = [Double](repeating: 0, count: d)
        var centred = [Float](repeating: 0, count: d * d)
        var total = 0.0, trace = 0.0, sumSquares = 0.0
        m.withUnsafeBufferPointer { m in
            rowMeans.withUnsafeMutableBufferPointer { rowMeans in
                columnMeans.withUnsafeMutableBufferPointer { columnMeans in
                    // Sums in four interleaved lanes (a fixed order, so the same bits on every run).
                    for i in 0 ..< d {
                        var lanes = SIMD4<Double>()
                        var j = 0
                        while j + 4 <= d {
                            let v = SIMD4<Double>(Double(m[i * d + j]), Double(m[i * d + j + 1]), Double(m[i * d + j + 2]), Double(m[i * d + j + 3]))
                            lanes += v
                            columnMeans[j] += v[0]; columnMeans[j + 1] += v[1]; columnMeans[j + 2] += v[2]; columnMeans[j + 3] += v[3]
                            j += 4
                        }
                        var row = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
                        while j < d {
                            let v = Double(m[i * d + j])
                            row += v
                            columnMeans[j] += v
                            j += 1
                        }
                        rowMeans[i] = row
                        trace += Double(m[i * d + i])
                    }
                    for i in 0 ..< d { total += rowMeans[i] }
                    for i in 0 ..< d { rowMeans[i] /= Double(d); columnMeans[i] /= Double(d) }
                    let grand = total / Double(d * d)
                    for i in 0 ..< d {
                        let r = rowMeans[i]
                        var lanes = SIMD4<Double>()
                        var j = 0
                        while j + 4 <= d {
                            let v = SIMD4<Double>(Double(m[i * d + j]), Double(m[i * d + j + 1]), Double(m[i * d + j + 2]), Double(m[i * d + j + 3]))
                                - r - SIMD4<Double>(columnMeans[j], columnMeans[j + 1], columnMeans[j + 2], columnMeans[j + 3]) + grand
                            lanes += v * v
                            j += 4
                        }
                        var row = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
                        while j < d {
                            let v = Double(m[i * d + j]) - r - columnMeans[j] + grand
                            row += v * v
                            j += 1
                        }
                        sumSquares += row
                    }
                    let variance = sumSquares / Double(d - 1)
                    guard variance > 0, variance.isFinite else { return }
                    let sigma = variance.squareRoot()
                    centred.withUnsafeMutableBufferPointer { centred in
                        for i in 0 ..< d {
                            let r = rowMeans[i]
                            for j in 0 ..< d {
                                centred[i * d + j] = Float((Double(m[i * d + j]) - r - columnMeans[j] + grand) / sigma)
                            }
                        }
                    }
                }
            }
        }
        let variance = sumSquares / Double(d - 1)
        guard variance > 0, variance.isFinite else { return nil }
        let sigma = variance.squareRoot()
        let z = (trace - total / Double(d)) / sigma
        return PermutationStatistic(units: d, z: z, normalizedCentred: centred)
    }

}

/// Sums tensor statistics that share one permutation of the same units into a joint statistic.
public struct JointPermutationAccumulator: Sendable {
    public let units: Int
    private var c: [Float]
    private var sumZ = 0.0
    public private(set) var members = 0

    public init(units: Int) {
        self.units = units
        c = [Float](repeating: 0, count: units * units)
    }

    /// Adds one tensor's statistic (ignored unless it permutes the same units).
    public mutating func add(_ statistic: PermutationStatistic) {
        guard statistic.units == units, !statistic.normalizedCentred.isEmpty else { return }
        sumZ += statistic.z
        members += 1
        statistic.normalizedCentred.withUnsafeBufferPointer { d in
            c.withUnsafeMutableBufferPointer { c in
                for k in 0 ..< c.count { c[k] += d[k] }
            }
        }
    }

    /// z of Σ z_t under the joint null, or nil when nothing was added.
    public var statistic: PermutationStatistic? {
        guard members > 0 else { return nil }
        let variance = c.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(units - 1)
        guard variance > 0 else { return nil }
        return PermutationStatistic(units: units, z: sumZ / variance.squareRoot(), normalizedCentred: [])
    }
}
