import CPedigreeKernels
import Foundation
import PedigreeFormats

/// `compare CHILD --parents P1 P2 ... [--base B]`: is CHILD a combination of its parents?
///
/// Least squares per tensor and for the whole model: CHILD ≈ Σ w_i P_i (a linear merge), and with
/// a base CHILD − B ≈ Σ λ_i (P_i − B) (task arithmetic), each with its residual against the
/// rounding of the child's dtype; with a base, the TIES/DARE signatures of the task vectors
/// (exact zeros, the 1/(1−p) rescale, sign agreement). Tensors where the parents agree, or that
/// are all zero, give no coefficient (the weights are not identifiable there). What it does not
/// prove: a small residual shows CHILD lies in the span of the given parents, not that no other
/// model of that span was the real ingredient.
public enum MergeAnalysis {
    /// A merge leaves a residual energy at most this many times the child's rounding energy.
    static let roundingFactor = 16.0
    /// Parents with weight below this are not ingredients.
    static let minimumWeight = 0.02

    /// Normal equations for one fit, accumulated in Double.
    struct Normal {
        var gram: [Double]
        var rhs: [Double]
        var target = 0.0
        let k: Int
        init(_ k: Int) { self.k = k; gram = [Double](repeating: 0, count: k * k); rhs = [Double](repeating: 0, count: k) }

        mutating func add(_ other: Normal) {
            for i in 0 ..< gram.count { gram[i] += other.gram[i] }
            for i in 0 ..< k { rhs[i] += other.rhs[i] }
            target += other.target
        }

        /// The weights, or nil when the Gram matrix is singular (relative pivot below 1e-10).
        func solve() -> [Double]? { MergeAnalysis.solve(gram, rhs, k) }

        /// Σ(target − Σ w x)² from the accumulated products.
        func residual(_ w: [Double]) -> Double {
            var r = target
            for i in 0 ..< k {
                r -= 2 * w[i] * rhs[i]
                for j in 0 ..< k { r += w[i] * w[j] * gram[i * k + j] }
            }
            return max(r, 0)
        }
    }

    static func dot(_ x: [Float], _ y: [Float]) -> Double {
        x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in cblas_dsdot(Int32(x.count), px.baseAddress, 1, py.baseAddress, 1) } }
    }

    static func normal(_ xs: [[Float]], _ y: [Float]) -> Normal {
        var n = Normal(xs.count)
        for i in 0 ..< xs.count {
            for j in i ..< xs.count {
                let d = dot(xs[i], xs[j])
                n.gram[i * xs.count + j] = d
                n.gram[j * xs.count + i] = d
            }
            n.rhs[i] = dot(xs[i], y)
        }
        n.target = dot(y, y)
        return n
    }

    /// Gaussian elimination with partial pivoting.
    static func solve(_ g: [Double], _ h: [Double], _ k: Int) -> [Double]? {
        var a = g, b = h
        let scale = (0 ..< k).map { g[$0 * k + $0] }.max() ?? 0
        guard scale > 0 else { return nil }
        for col in 0 ..< k {
            var pivot = col
            for r in col ..< k where Swift.abs(a[r * k + col]) > Swift.abs(a[pivot * k + col]) { pivot = r }
            guard Swift.abs(a[pivot * k + col]) > 1e-10 * scale else { return nil }
            if pivot != col {
                for c in 0 ..< k { a.swapAt(col * k + c, pivot * k + c) }
                b.swapAt(col, pivot)
            }
            for r in col + 1 ..< k {
                let f = a[r * k + col] / a[col * k + col]
                for c in col ..< k { a[r * k + c] -= f * a[col * k + c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: k)
        for r in stride(from: k - 1, through: 0, by: -1) {
            var s = b[r]
            for c in r + 1 ..< k { s -= a[r * k + c] * x[c] }
            x[r] = s / a[r * k + r]
        }
        return x
    }

    /// The merge analysis alone (no verdict).
    public static func analyse(child: Model, parents: [Model], base: Model?) -> (MergeReport, [Finding]) {
        var findings = [Finding]()
        let k = parents.count
        let parentPairs = parents.map { p in Dictionary(TensorPairing.pair(child, p).pairs.map { ($0.a.name, $0) }, uniquingKeysWith: { x, _ in x }) }
        let basePairs = base.map { b in Dictionary(TensorPairing.pair(child, b).pairs.map { ($0.a.name, $0) }, uniquingKeysWith: { x, _ in x }) }
        var linear = Normal(k), task = Normal(k), kept = Normal(k)
        var rounding = 0.0
        var tensors = [MergeTensor]()
        var entries = 0, childZero = 0, allParentsZero = 0
        var parentZero = [Int](repeating: 0, count: k), signSame = [Int](repeating: 0, count: k), signBoth = [Int](repeating: 0, count: k)
        for t in child.tensors {
            guard let fc = t.type.floatFormat else { continue }
            let pairs = parentPairs.map { $0[t.name] }
            guard pairs.allSatisfy({ $0 != nil && $0!.a.shape == $0!.b.shape && $0!.b.type.floatFormat != nil }) else {
                findings.append(Finding(.info, "merge-tensor-skipped", tensor: t.name, "\(t.name) is not in every parent with the same shape and a float type: not fitted"))
                continue
            }
            let basePair = basePairs?[t.name]
            if basePairs != nil, basePair == nil || basePair!.a.shape != basePair!.b.shape {
                findings.append(Finding(.info, "merge-tensor-skipped", tensor: t.name, "\(t.name) is not in the base with the same shape: not fitted"))
                continue
            }
            let c: FloatMatrix, ps: [FloatMatrix], bm: FloatMatrix?
            do throws(ReadError) {
                c = try FloatMatrix.load(child, t)
                var list = [FloatMatrix]()
                for (i, pair) in pairs.enumerated() { list.append(try FloatMatrix.load(parents[i], pair!.b, map: pair!.rowMapB)) }
                ps = list
                bm = try basePair.map { p throws(ReadError) in try FloatMatrix.load(base!, p.b, map: p.rowMapB) }
            } catch {
                findings.append(Finding(.warning, "not-decoded", tensor: t.name, error.message))
                continue
            }
            for x in c.values { let u = Spectrum.ulp(x, format: fc); rounding += u * u / 12 }
            let n = normal(ps.map(\.values), c.values)
            linear.add(n)
            var record = MergeTensor(tensor: t.name, weights: nil, residual: nil, note: nil)
            if n.target == 0 && (0 ..< k).allSatisfy({ n.gram[$0 * k + $0] == 0 }) {
                record.note = "all zero: no coefficient"
            } else if k > 1, ps.dropFirst().allSatisfy({ $0.values == ps[0].values }) {
                record.note = "the parents agree on this tensor: no coefficient"
            } else if let w = n.solve() {
                record.weights = w.map { Numbers.significant($0, digits: 5) }
                record.residual = Numbers.significant(n.target > 0 ? (n.residual(w) / n.target).squareRoot() : 0, digits: 4)
            } else {
                record.note = "the parents are linearly dependent on this tensor: no coefficient"
            }
            tensors.append(record)
            if let bm {
                let tc = zip(c.values, bm.values).map { $0 - $1 }
                let tp = ps.map { p in zip(p.values, bm.values).map { $0 - $1 } }
                task.add(normal(tp, tc))
                var keptC = tc
                var keptP = tp
                for e in 0 ..< tc.count {
                    entries += 1
                    let cz = tc[e] == 0
                    if cz { childZero += 1 }
                    var all = true
                    for i in 0 ..< k {
                        let v = tp[i][e]
                        if v == 0 { parentZero[i] += 1 } else { all = false }
                        if !cz && v != 0 {
                            signBoth[i] += 1
                            if (v > 0) == (tc[e] > 0) { signSame[i] += 1 }
                        }
                        if cz { keptP[i][e] = 0 }
                    }
                    if all { allParentsZero += 1 }
                    if cz { keptC[e] = 0 }
                }
                kept.add(normal(keptP, keptC))
            }
        }
        let weights = linear.solve()
        let residualEnergy = weights.map { linear.residual($0) }
        var report = MergeReport(parents: parents.map(\.path), base: base?.path, isMerge: false, method: "none",
                                 weights: weights?.map { Numbers.significant($0, digits: 5) },
                                 residual: residualEnergy.map { Numbers.significant(linear.target > 0 ? ($0 / linear.target).squareRoot() : 0, digits: 4) },
                                 residualOverRounding: residualEnergy.flatMap { rounding > 0 ? Numbers.significant($0 / rounding, digits: 4) : nil },
                                 taskArithmetic: nil, signatures: nil, tensors: tensors)
        if base != nil {
            let lambdas = task.solve()
            let r = lambdas.map { task.residual($0) }
            report.taskArithmetic = TaskArithmeticFit(lambdas: lambdas?.map { Numbers.significant($0, digits: 5) },
                                                      residual: r.map { Numbers.significant(task.target > 0 ? ($0 / task.target).squareRoot() : 0, digits: 4) },
                                                      residualOverRounding: r.flatMap { rounding > 0 ? Numbers.significant($0 / rounding, digits: 4) : nil })
            let keptLambdas = kept.solve()
            let share = { (x: Int) in entries > 0 ? Numbers.significant(Double(x) / Double(entries), digits: 4) : 0 }
            report.signatures = MergeSignatures(
                childZeroShare: share(childZero), excessZeroShare: share(max(childZero - allParentsZero, 0)),
                parentZeroShares: parentZero.map(share),
                signAgreement: (0 ..< k).map { signBoth[$0] > 0 ? Numbers.significant(Double(signSame[$0]) / Double(signBoth[$0]), digits: 4) : 0 },
                rescale: (0 ..< k).map { i in
                    guard let all = lambdas?[i], let kl = keptLambdas?[i], Swift.abs(all) > 1e-12 else { return nil }
                    return Numbers.significant(kl / all, digits: 4)
                })
        }
        func fits(_ energy: Double?, _ target: Double) -> Bool {
            guard let energy else { return false }
            return rounding > 0 ? energy <= roundingFactor * rounding : energy <= 1e-12 * target
        }
        let ingredients = { (w: [Double]?) in (w ?? []).filter { Swift.abs($0) >= minimumWeight }.count }
        if k >= 2, fits(residualEnergy, linear.target), ingredients(weights) >= 2 {
            report.isMerge = true
            report.method = "linear"
        } else if k >= 1, let lambdas = task.solve(), fits(task.residual(lambdas), task.target), ingredients(lambdas) >= 1,
                  base != nil {
            report.isMerge = true
            report.method = "task-arithmetic"
        }
        if report.isMerge, let s = report.signatures, s.excessZeroShare >= 0.05 { report.method = "sparsified" }
        return (report, findings)
    }

    /// The comparison of CHILD with its first parent, with the merge analysis; the relation is
    /// `merge` (with `parents` and their weights) when the fit holds.
    public static func compare(child: Model, parents: [Model], base: Model?, options: CompareOptions = CompareOptions()) -> Comparison {
        precondition(!parents.isEmpty, "a merge analysis needs at least one parent")
        var comparison = Comparator.compare(child, parents[0], options: options)
        let (report, findings) = analyse(child: child, parents: parents, base: base)
        comparison.findings += findings
        comparison.merge = report
        let v = comparison.verdict
        var lines = [String]()
        if let w = report.weights {
            lines.append("linear fit over the whole model: " + zip(parents, w).map { String(format: "%@ %.4f", $0.path, $1) }.joined(separator: ", ")
                         + String(format: " (sum %.4f), relative residual %.3g", w.reduce(0, +), report.residual ?? .nan)
                         + (report.residualOverRounding.map { String(format: ", %.3g x the child's rounding energy", $0) } ?? ""))
        }
        if let t = report.taskArithmetic, let l = t.lambdas {
            lines.append("task arithmetic relative to the base: " + l.map { String(format: "%.4f", $0) }.joined(separator: ", ")
                         + String(format: ", relative residual %.3g", t.residual ?? .nan))
        }
        if let s = report.signatures {
            lines.append(String(format: "task-vector zeros: child %.4f (%.4f beyond the entries every parent leaves at the base)", s.childZeroShare, s.excessZeroShare))
        }
        let unfitted = report.tensors.filter { $0.note != nil }.count
        if unfitted > 0 { lines.append("\(unfitted) tensors give no coefficient (the parents agree there, or the tensor is all zero)") }
        if report.isMerge {
            let weights = report.method == "task-arithmetic" ? report.taskArithmetic?.lambdas : report.weights
            let parentsList = zip(parents, weights ?? []).map { MergeParent(path: $0.path, weight: $1) }
            comparison.verdict = Verdict(relation: .merge, parent: nil, parents: parentsList, log10PValue: v.log10PValue, alpha: v.alpha,
                                         method: v.method,
                                         summary: "a is a \(report.method) merge of its \(parents.count) parents: " + parentsList.map { String(format: "%@ %.3f", $0.path, $0.weight ?? .nan) }.joined(separator: ", ")
                                            + ", with a residual at the rounding of a's dtype",
                                         evidence: lines + v.evidence)
        } else {
            comparison.findings.append(Finding(.info, "not-a-merge", "a is not a combination of the given parents within the rounding of its dtype"))
            comparison.verdict.evidence = lines + v.evidence
        }
        return comparison
    }
}
