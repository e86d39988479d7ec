import Foundation
import PedigreeFormats

/// Squared Frobenius norms of a model's evidence tensors (matrices and embeddings), per row
/// prefix, so that a comparison's relative distances become absolute ones.
public struct WeightNorms: Sendable {
    /// Prefix sums of squared row norms, by tensor name: `[0, r0, r0 + r1, ...]`.
    let prefix: [String: [Double]]

    /// One streamed pass over `model`'s matrices and embeddings.
    public init(_ model: Model) {
        var prefix = [String: [Double]]()
        for tensor in model.tensors {
            let kind = TensorKind.of(tensor)
            guard kind == .matrix || kind == .embedding, TensorDecoder.canDecode(tensor.type), tensor.rowLength > 0 else { continue }
            let rowLength = tensor.rowLength, rows = tensor.rowCount
            let chunk = max(1, (1 << 18) / rowLength)
            var sums = [Double](repeating: 0, count: rows + 1)
            var buffer = [Float](repeating: 0, count: chunk * rowLength)
            var ok = true
            var start = 0
            while start < rows, ok {
                let end = min(rows, start + chunk)
                buffer.withUnsafeMutableBufferPointer { out in
                    do throws(ReadError) {
                        try model.decodeRows(of: tensor, start ..< end, into: out.baseAddress!)
                    } catch { ok = false; return }
                    for r in start ..< end {
                        var s = 0.0
                        let base = (r - start) * rowLength
                        for j in 0 ..< rowLength { let x = Double(out[base + j]); s += x * x }
                        sums[r + 1] = sums[r] + s
                    }
                }
                model.releasePages(of: tensor, start ..< end)
                start = end
            }
            if ok { prefix[tensor.name] = sums }
        }
        self.prefix = prefix
    }

    /// ||tensor[0 ..< rows]||², or nil when unknown.
    public func squaredNorm(_ name: String, rows: Int? = nil) -> Double? {
        guard let sums = prefix[name] else { return nil }
        let r = min(rows ?? (sums.count - 1), sums.count - 1)
        return sums[r]
    }

    /// The row norms of `tensor[0 ..< rows]`, sorted: a profile that a permutation of rows or
    /// columns keeps.
    public func sortedRowNorms(_ name: String, rows: Int) -> [Double]? {
        guard let sums = prefix[name], rows < sums.count else { return nil }
        return (0 ..< rows).map { max(0, sums[$0 + 1] - sums[$0]).squareRoot() }.sorted()
    }
}

/// Distances between two models from a comparison: ||a − b|| and ||a|| over the matrices and
/// embeddings both sides share (the rows compared).
public struct WeightDistance: Sendable, Codable, Equatable {
    /// sqrt(Σ ||a_t − b_t||²).
    public var absolute: Double
    /// sqrt(Σ ||a_t||²) over the same tensors.
    public var normA: Double
    /// Tensors that entered the sums.
    public var tensors: Int

    /// absolute / normA: the size of the change relative to the a side.
    public var relative: Double { normA > 0 ? absolute / normA : .infinity }

    /// The distance of `comparison`, whose a side has the norms `normsA`; nil when no tensor counts.
    public init?(_ comparison: Comparison, normsA: WeightNorms) {
        var diff = 0.0, norm = 0.0, count = 0
        for t in comparison.tensors where t.kind == .matrix || t.kind == .embedding {
            guard let r = t.relL2, let n = normsA.squaredNorm(t.a, rows: t.rowsCompared) else { continue }
            diff += r * r * n
            norm += n
            count += 1
        }
        guard count > 0 else { return nil }
        absolute = diff.squareRoot()
        normA = norm.squareRoot()
        tensors = count
    }
}

/// The geometric test for a linear merge: a child C = w·P1 + (1 − w)·P2 lies on the segment
/// between its parents, so ||P1 − C|| + ||C − P2|| = ||P1 − P2||, and w = ||C − P2|| / ||P1 − P2||.
/// Two children of one parent lie on that segment only when their deltas point in opposite
/// directions; independent deltas of sizes d1, d2 give a sum sqrt(1 + ...) larger (at least 9%
/// for weights between 0.1 and 0.9), which the tolerance rejects.
public struct MergeGeometry: Sendable, Codable, Equatable {
    /// (||P1 − C|| + ||C − P2||) / ||P1 − P2|| − 1: 0 on the segment.
    public var excess: Double
    /// The weight of P1 (that of P2 is 1 − weight).
    public var weight: Double

    /// How far above 1 the distance ratio may be for a merge.
    public static let tolerance = 0.02
    /// The smallest weight either parent may have.
    public static let minimumWeight = 0.05

    public init?(parent1ToChild d1: Double, childToParent2 d2: Double, parent1ToParent2 d12: Double) {
        guard d12 > 0, d1.isFinite, d2.isFinite, d12.isFinite else { return nil }
        excess = (d1 + d2) / d12 - 1
        weight = d2 / d12
    }

    /// True when the child lies on the segment with both parents weighing in.
    public var isMerge: Bool {
        excess <= Self.tolerance && weight >= Self.minimumWeight && weight <= 1 - Self.minimumWeight
    }
}

extension WeightDistance {
    /// ||a − b|| and ||a|| measured directly (one decoding pass, no statistics) over the paired
    /// matrices and embeddings both sides can decode; nil when there are none.
    public static func measure(_ a: Model, _ b: Model) -> WeightDistance? {
        var diff = 0.0, norm = 0.0, count = 0
        for pair in TensorPairing.pair(a, b).pairs where pair.kind == .matrix || pair.kind == .embedding {
            guard TensorDecoder.canDecode(pair.a.type), TensorDecoder.canDecode(pair.b.type), pair.a.rowLength == pair.b.rowLength else { continue }
            let length = pair.a.rowLength
            let chunk = max(1, (1 << 16) / max(length, 1))
            var bufA = [Float](repeating: 0, count: chunk * length), bufB = bufA
            var start = 0, ok = true
            while start < pair.rows, ok {
                let end = min(pair.rows, start + chunk)
                ok = bufA.withUnsafeMutableBufferPointer { (try? PairMeasurer.decode(a, pair.a, map: pair.rowMapA, rows: start ..< end, into: $0.baseAddress!)) != nil }
                    && bufB.withUnsafeMutableBufferPointer { (try? PairMeasurer.decode(b, pair.b, map: pair.rowMapB, rows: start ..< end, into: $0.baseAddress!)) != nil }
                if ok {
                    for i in 0 ..< (end - start) * length {
                        let x = Double(bufA[i]), d = x - Double(bufB[i])
                        diff += d * d
                        norm += x * x
                    }
                }
                start = end
            }
            if ok { count += 1 }
        }
        guard count > 0 else { return nil }
        return WeightDistance(absolute: diff.squareRoot(), normA: norm.squareRoot(), tensors: count)
    }

    init(absolute: Double, normA: Double, tensors: Int) {
        self.absolute = absolute
        self.normA = normA
        self.tensors = tensors
    }
}
