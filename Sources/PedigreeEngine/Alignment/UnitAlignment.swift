import CPedigreeKernels
import Foundation
import PedigreeFormats

/// One tensor of an MLP layer, seen unit by unit: `units` rows of `width` values on each side
/// (rows of gate/up/intermediate weights, columns of down/output weights, entries of a bias).
public struct UnitTensor: Sendable {
    public enum Side: Sendable { case input, output, bias }
    public var a: String
    public var b: String
    public var side: Side
    public var width: Int
    public var valuesA: [Float]
    public var valuesB: [Float]
    /// The narrower float format of the two sides (nil when either is not a plain float).
    public var format: FloatFormat?

    public init(a: String, b: String, side: Side, width: Int, valuesA: [Float], valuesB: [Float], format: FloatFormat?) {
        self.a = a; self.b = b; self.side = side; self.width = width
        self.valuesA = valuesA; self.valuesB = valuesB; self.format = format
    }
}

/// Hidden-unit alignment of MLP layers: which unit of b is which unit of a.
///
/// For each layer the units of a are matched to those of b by the linear assignment problem on
/// the cosine similarity of their weight vectors (`LinearAssignment`), three times: from the
/// input-side rows (gate/up or intermediate), from the output-side columns (down or output), and
/// from both together (the permutation reported). Independent models give two unrelated
/// matchings, which agree on about one unit (the fixed points of a random permutation); a copy,
/// however permuted or rescaled, gives the same matching from every tensor. The agreement is the
/// layer's statistic, its p-value the exact upper tail of the number of fixed points of a uniform
/// random permutation. Then b's units are put in a's order and every tensor is measured again.
///
/// What it does not prove: the fixed-point null holds exactly when each model's input- and
/// output-side weights are exchangeable over units independently of the other model (independent
/// initialisation); its calibration on trained models is measured, not derived.
public enum UnitAlignment {
    /// Input-side modules (units are rows), output-side modules (units are columns).
    static let inputModules = ["mlp.gate_proj", "mlp.up_proj", "intermediate.dense", "mlp.fc1", "mlp.w1", "mlp.w3"]
    static let outputModules = ["mlp.down_proj", "output.dense", "mlp.fc2", "mlp.w2"]

    public static func align(block: String, units n: Int, tensors: [UnitTensor], candidates: Int = 24) -> LayerAlignment {
        let weights = tensors.filter { $0.side != .bias }
        let similarities = weights.map { cosineSimilarity($0, units: n) }
        func sum(_ indices: [Int]) -> [Float] {
            var s = [Float](repeating: 0, count: n * n)
            for i in indices { for k in 0 ..< s.count { s[k] += similarities[i][k] } }
            return s
        }
        let inputs = weights.indices.filter { weights[$0].side == .input }
        let outputs = weights.indices.filter { weights[$0].side == .output }
        let piIn = LinearAssignment.maximize(sum(inputs), n: n, candidates: candidates).columnOfRow
        let piOut = outputs.isEmpty ? piIn : LinearAssignment.maximize(sum(outputs), n: n, candidates: candidates).columnOfRow
        let pi = inputs.isEmpty || outputs.isEmpty ? piIn : LinearAssignment.maximize(sum(inputs + outputs), n: n, candidates: candidates).columnOfRow
        let matched = zip(piIn, piOut).filter { $0 == $1 }.count

        // Agreements between single tensors (gate vs up shares the hidden index too).
        var agreements = [PermutationAgreement]()
        if weights.count > 2 {
            let single = weights.indices.map { LinearAssignment.maximize(similarities[$0], n: n, candidates: candidates).columnOfRow }
            for x in weights.indices { for y in weights.indices where y > x {
                agreements.append(PermutationAgreement(first: weights[x].a, second: weights[y].a, agree: zip(single[x], single[y]).filter { $0 == $1 }.count))
            } }
        } else if inputs.count == 1 && outputs.count == 1 {
            agreements.append(PermutationAgreement(first: weights[inputs[0]].a, second: weights[outputs[0]].a, agree: matched))
        }

        var meanCosine = 0.0
        if let first = inputs.first { for i in 0 ..< n { meanCosine += Double(similarities[first][i * n + pi[i]]) } }
        var permutation = [Int](repeating: 0, count: n)
        for i in 0 ..< n { permutation[pi[i]] = i }

        // Per-unit scales of each weight tensor, then the measures after alignment.
        var scales = [String: [Double]]()
        var aligned = [AlignedTensor]()
        for t in tensors where t.side != .bias {
            scales[t.a] = unitScales(t, units: n, pi: pi)
        }
        var scaleIn = 1.0, scaleOut = 1.0
        if let up = tensors.first(where: { $0.side == .input && $0.a.contains("up_proj") }) ?? tensors.first(where: { $0.side == .input }) {
            scaleIn = median(scales[up.a]!)
        }
        if let down = tensors.first(where: { $0.side == .output }) { scaleOut = median(scales[down.a]!) }
        for t in tensors {
            let s = scales[t.a] ?? scales[t.a.replacingOccurrences(of: ".bias", with: ".weight")] ?? [Double](repeating: 1, count: n)
            aligned.append(measure(t, units: n, pi: pi, scales: s))
        }
        return LayerAlignment(block: block, units: n, matchedUnits: matched, agreements: agreements,
                              fixedUnits: (0 ..< n).filter { pi[$0] == $0 }.count,
                              meanMatchedCosine: Numbers.significant(meanCosine / Double(n)),
                              log10PValue: Numbers.rounded(FixedPoints.log10AtLeast(matched, units: n), places: 2),
                              permutationHead: Array(permutation.prefix(16)),
                              permutationChecksum: LayerAlignment.checksum(permutation),
                              scaleIn: Numbers.significant(scaleIn), scaleOut: Numbers.significant(scaleOut),
                              tensors: aligned, permutation: permutation)
    }

    /// Cosine of every unit of a against every unit of b (n × n, row-major, a's units as rows).
    static func cosineSimilarity(_ t: UnitTensor, units n: Int) -> [Float] {
        let w = t.width
        func normalized(_ x: [Float]) -> [Float] {
            var y = x
            for i in 0 ..< n {
                var s = 0.0
                for k in 0 ..< w { s += Double(x[i * w + k]) * Double(x[i * w + k]) }
                let f = s > 0 ? Float(1 / s.squareRoot()) : 0
                for k in 0 ..< w { y[i * w + k] *= f }
            }
            return y
        }
        let a = normalized(t.valuesA), b = normalized(t.valuesB)
        var m = [Float](repeating: 0, count: n * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                m.withUnsafeMutableBufferPointer { out in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(w),
                                1, pa.baseAddress, Int32(w), pb.baseAddress, Int32(w), 0, out.baseAddress, Int32(n))
                }
            }
        }
        return m
    }

    /// s_i = <a_i, b_π(i)> / <a_i, a_i> (1 for a zero unit).
    static func unitScales(_ t: UnitTensor, units n: Int, pi: [Int]) -> [Double] {
        let w = t.width
        return (0 ..< n).map { i in
            var ab = 0.0, aa = 0.0
            for k in 0 ..< w {
                let x = Double(t.valuesA[i * w + k]), y = Double(t.valuesB[pi[i] * w + k])
                ab += x * y; aa += x * x
            }
            return aa > 0 ? ab / aa : 1
        }
    }

    static func measure(_ t: UnitTensor, units n: Int, pi: [Int], scales: [Double]) -> AlignedTensor {
        let w = t.width
        var dot = 0.0, aa = 0.0, bb = 0.0, diff2 = 0.0, maxDiff = 0.0, residual2 = 0.0
        var mismatches = 0
        let format = t.format.map { PairMeasurer.kernelFormat($0) }
        for i in 0 ..< n {
            for k in 0 ..< w {
                let xf = t.valuesA[i * w + k], yf = t.valuesB[pi[i] * w + k]
                let x = Double(xf), y = Double(yf)
                dot += x * y; aa += x * x; bb += y * y
                diff2 += (x - y) * (x - y)
                maxDiff = max(maxDiff, abs(x - y))
                let r = y - scales[i] * x
                residual2 += r * r
                if let format {
                    if pdg_round_to_format(xf, format) != pdg_round_to_format(yf, format) { mismatches += 1 }
                } else if xf != yf { mismatches += 1 }
            }
        }
        let scaledResidual = bb > 0 ? (residual2 / bb).squareRoot() : (residual2 == 0 ? 0 : 1)
        let tolerance: Double = switch t.format {
        case .f16: 0x1p-11
        case .bf16: 0x1p-8
        case .f32: 0x1p-20
        default: 0
        }
        let denominator = (aa * bb).squareRoot()
        return AlignedTensor(a: t.a, b: t.b, cosine: Numbers.significant(denominator > 0 ? dot / denominator : 0),
                             relL2: Numbers.significant(aa > 0 ? (diff2 / aa).squareRoot() : 0),
                             maxAbsDiff: Numbers.significant(maxDiff), roundingMismatches: mismatches,
                             scaledResidual: Numbers.significant(scaledResidual),
                             equal: mismatches == 0 || scaledResidual <= tolerance)
    }

    static func median(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return 1 }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    // MARK: Models

    /// An MLP layer found in a pairing: its block name, units, and the pairs that index them.
    struct LayerPairs {
        var block: String
        var units: Int
        var pairs: [(TensorPair, UnitTensor.Side)]
    }

    static func layers(of pairing: Pairing) -> [LayerPairs] {
        var order = [String]()
        var found = [String: [(TensorPair, UnitTensor.Side)]]()
        for pair in pairing.pairs where pair.a.shape == pair.b.shape && pair.rowMapA == .identity && pair.rowMapB == .identity {
            let key = pair.key
            let isWeight = key.hasSuffix(".weight") && pair.a.shape.count == 2
            let isBias = key.hasSuffix(".bias") && pair.a.shape.count == 1
            guard isWeight || isBias else { continue }
            let module = String(key.dropLast(isWeight ? 7 : 5))
            var side: UnitTensor.Side?
            if inputModules.contains(where: { module.hasSuffix($0) }) { side = isWeight ? .input : .bias }
            else if isWeight, outputModules.contains(where: { module.hasSuffix($0) }), !module.contains("attention") { side = .output }
            guard let side else { continue }
            let block = BlockNaming.block(of: pair)
            if found[block] == nil { order.append(block); found[block] = [] }
            found[block]!.append((pair, side))
        }
        return order.compactMap { block in
            let entries = found[block]!
            guard let first = entries.first(where: { $0.1 == .input }) else { return nil }
            let n = first.0.a.shape[0], h = first.0.a.shape[1]
            let consistent = entries.allSatisfy { pair, side in
                switch side {
                case .input: pair.a.shape == [n, h]
                case .output: pair.a.shape == [h, n]
                case .bias: pair.a.shape == [n]
                }
            }
            guard consistent, n >= 2 else { return nil }
            return LayerPairs(block: block, units: n, pairs: entries)
        }
    }

    /// Decodes a layer's tensors unit by unit.
    static func load(_ layer: LayerPairs, a: Model, b: Model, residual: [Int]? = nil) throws(ReadError) -> [UnitTensor] {
        var result = [UnitTensor]()
        for (pair, side) in layer.pairs {
            let rows = pair.a.rowCount, length = pair.a.rowLength
            var va = [Float](repeating: 0, count: rows * length), vb = va
            try va.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try a.decodeRows(of: pair.a, 0 ..< rows, into: p.baseAddress!) }
            try vb.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try b.decodeRows(of: pair.b, 0 ..< rows, into: p.baseAddress!) }
            var width = length
            if side == .output {   // [h, n] -> n units of h values
                va = FloatMatrix.transposed(va, rows: rows, columns: length); vb = FloatMatrix.transposed(vb, rows: rows, columns: length)
                width = rows
            } else if side == .bias {
                width = 1
            }
            if let residual, side != .bias { vb = reorderColumns(vb, width: width, residual) }
            result.append(UnitTensor(a: pair.a.name, b: pair.b.name, side: side, width: width, valuesA: va, valuesB: vb,
                                     format: narrower(pair.a.type.floatFormat, pair.b.type.floatFormat)))
        }
        return result
    }

    static func narrower(_ x: FloatFormat?, _ y: FloatFormat?) -> FloatFormat? {
        guard let x, let y else { return nil }
        let bits: (FloatFormat) -> Int = { switch $0 { case .f64: 52; case .f32: 23; case .f16: 10; case .bf16: 7 } }
        return bits(x) <= bits(y) ? x : y
    }

    /// Rows of `width` values with b's residual units put in a's order (`residual[i]`: b's unit for
    /// a's unit i); unchanged when the width is not the residual width.
    static func reorderColumns(_ x: [Float], width: Int, _ residual: [Int]) -> [Float] {
        guard residual.count == width else { return x }
        var y = x
        for r in 0 ..< x.count / width { for k in 0 ..< width { y[r * width + k] = x[r * width + residual[k]] } }
        return y
    }

    /// Aligns every MLP layer the two models share; `residual` (b's residual unit for each of a's)
    /// reorders b's residual axis first.
    public static func align(_ a: Model, _ b: Model, pairing: Pairing, residual: [Int]? = nil) throws(ReadError) -> [LayerAlignment] {
        var result = [LayerAlignment]()
        for layer in layers(of: pairing) {
            let tensors = try load(layer, a: a, b: b, residual: residual)
            result.append(align(block: layer.block, units: layer.units, tensors: tensors))
        }
        return result
    }
}

/// The number of fixed points of a uniform random permutation of n (about Poisson(1)).
public enum FixedPoints {
    /// log10 P(X >= k): P(X = j) = (1/j!) Σ_{i=0}^{n−j} (−1)^i / i!.
    public static func log10AtLeast(_ k: Int, units n: Int) -> Double {
        guard k > 0 else { return 0 }
        guard k <= n else { return -.infinity }
        var terms = [Double]()
        for j in k ... n {
            let m = n - j
            var s = 0.0, term = 1.0
            for i in 0 ... min(m, 30) { if i > 0 { term /= Double(i) }; s += i % 2 == 0 ? term : -term }
            if s <= 0 { continue }   // X = n − 1 is impossible
            terms.append(log(s) - lgamma(Double(j) + 1))
        }
        let top = terms.max()!
        let ln = top + log(terms.reduce(0) { $0 + exp($1 - top) })
        return min(0, ln / log(10))
    }
}
