import CPedigreeKernels
import Foundation
import PedigreeFormats

/// The residual-stream alignment (compare's `alignment.residual`): the hidden dimension of b
/// matched to a's, and the tensors measured again with b's residual axis in a's order.
public struct ResidualAlignment: Codable, Sendable, Equatable {
    /// Residual-stream units (the hidden width).
    public var units: Int
    /// Rows of each source sampled (evenly spaced over the rows both sides share).
    public var sampledRows: Int
    /// The two tensors (a's names) each permutation was found from: rows aligned across models
    /// (token or position rows) and residual units as columns.
    public var sources: [String]
    /// Units of a whose most correlated unit of b is the same in both sources: the cheap screen
    /// (about 1 for independent models); below `ResidualStreamAlignment.screen` nothing else runs.
    public var bestMatchAgreement: Int
    /// Units on which the two permutations agree: about 1 for independent models, `units` for a copy.
    public var matchedUnits: Int?
    /// log10 P(agreement >= matchedUnits): fixed points of a uniform random permutation of `units`.
    public var log10PValue: Double?
    /// Units the permutation (found from both sources) leaves in place.
    public var fixedUnits: Int?
    /// Mean correlation of the matched columns (first source).
    public var meanMatchedCorrelation: Double?
    public var permutationHead: [Int]?
    public var permutationChecksum: String?
    /// Measures of every tensor with a residual axis after b's residual units were put in a's order
    /// (only when the agreement is significant).
    public var tensors: [AlignedTensor]?
    /// `permutation[j]` is the residual unit of a that b's unit j holds. Not in the JSON.
    public var permutation: [Int] = []

    enum CodingKeys: String, CodingKey {
        case units, sampledRows, sources, bestMatchAgreement, matchedUnits, log10PValue, fixedUnits, meanMatchedCorrelation
        case permutationHead, permutationChecksum, tensors
    }
}

/// Alignment of the residual stream itself: a copy whose hidden dimension was permuted
/// consistently across the whole model (embedding columns, every matrix's input columns, the
/// output rows of the projections that write the stream, norm gains and biases) computes the same
/// function, because LayerNorm and RMSNorm are permutation-equivariant, and it hides from the
/// hidden-permutation test (whose null is exactly that permutation).
///
/// The permutation is found twice, from two tensors whose rows are aligned across models without
/// any alignment (the token embedding over a sample of the shared vocabulary; then the output
/// head, the position embedding, or the first query projection), by the exact linear assignment
/// on the correlation of their columns. Independent models give two unrelated matchings (about
/// one unit in common); a copy gives the same one. The agreement's p-value is the upper tail of
/// the fixed points of a uniform random permutation of the width; only when it is below alpha/2 are
/// the tensors read in full and measured with b's residual axis reordered. It runs only on pairs
/// the plain test calls unrelated, on at most a few hundred sampled rows per source.
///
/// That null assumes the two matchings independent under H0. It fails when a model writes one
/// structure into both sources (measured: a token-frequency profile shared by the pair along one
/// residual direction of each model puts the agreement below alpha on about a quarter of
/// unrelated pairs): the verdict then rests on the tensors besides the sources, which must be
/// shared after the permutation before it relates the models (none did, in `PipelineNullCheck`).
///
/// What it does not handle: sign flips or rotations of the residual stream (not a permutation),
/// a residual permutation combined with other changes is reported as `derived` or `related`.
public enum ResidualStreamAlignment {
    /// The two sources: a token embedding, and an independent row-aligned tensor.
    static func sources(of pairing: Pairing, width d: Int) -> (TensorPair, TensorPair)? {
        let usable = pairing.pairs.filter {
            $0.a.shape.count == 2 && $0.b.shape.count == 2 && $0.hiddenAxis == 1 && $0.a.rowLength == d && $0.b.rowLength == d
                && $0.rowMapA == .identity && $0.rowMapB == .identity && $0.rows >= 16
        }
        let embedding = usable.first { $0.kind == .embedding && ($0.key.contains("embed_tokens") || $0.key.contains("word_embeddings") || $0.key.contains("wte")) }
            ?? usable.first { $0.kind == .embedding && !$0.key.contains("position") && !$0.key.contains("token_type") }
        guard let embedding else { return nil }
        let second = usable.first { $0.key.hasPrefix("lm_head") && $0.a.name != embedding.a.name }
            ?? usable.first { $0.kind == .embedding && $0.key.contains("position") && $0.rows >= 64 }
            ?? usable.first { HeadAlignment.queryModules.contains(where: $0.key.contains) && $0.key.hasSuffix(".weight") && $0.a.shape == $0.b.shape }
        guard let second else { return nil }
        return (embedding, second)
    }

    /// Rows sampled from a source: evenly spaced, at most `limit`.
    static func sampledRows(_ rows: Int, limit: Int) -> [Int] {
        let m = min(rows, limit)
        return (0 ..< m).map { $0 * rows / m }
    }

    /// Centred, unit-norm columns of the sampled rows (m × d, row-major).
    static func columns(_ t: TensorInfo, rows: [Int], from model: Model) throws(ReadError) -> [Float] {
        let d = t.rowLength, m = rows.count
        var v = [Float](repeating: 0, count: m * d)
        try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in
            for (k, r) in rows.enumerated() { try model.decodeRows(of: t, r ..< r + 1, into: p.baseAddress! + k * d) }
        }
        for c in 0 ..< d {
            var mean = 0.0
            for k in 0 ..< m { mean += Double(v[k * d + c]) }
            mean /= Double(m)
            var ss = 0.0
            for k in 0 ..< m { let x = Double(v[k * d + c]) - mean; ss += x * x }
            let f = ss > 0 ? 1 / ss.squareRoot() : 0
            for k in 0 ..< m { v[k * d + c] = Float((Double(v[k * d + c]) - mean) * f) }
        }
        return v
    }

    /// Correlation of every residual unit of a with every unit of b over the sampled rows (d × d).
    static func correlation(_ pair: TensorPair, a: Model, b: Model, limit: Int) throws(ReadError) -> (matrix: [Float], rows: Int) {
        let rows = sampledRows(pair.rows, limit: limit)
        let x = try columns(pair.a, rows: rows, from: a), y = try columns(pair.b, rows: rows, from: b)
        let d = pair.a.rowLength, m = rows.count
        var c = [Float](repeating: 0, count: d * d)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                c.withUnsafeMutableBufferPointer { out in
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(m),
                                1, px.baseAddress, Int32(d), py.baseAddress, Int32(d), 0, out.baseAddress, Int32(d))
                }
            }
        }
        return (c, m)
    }

    /// Rows sampled per source: 256, fewer for wide models (the d × d products cost d²·rows): 64 at 4096.
    static func rowLimit(width d: Int) -> Int { min(256, max(64, (1 << 30) / max(d * d, 1))) }

    /// Best-match agreements below which the assignments are not run (under independence the count
    /// is about Poisson(1): P(>= 5) is about 0.004, and an assignment agreement below 5 is not significant
    /// at alpha 0.01 anyway). The screen only skips work, it never relates a pair; it gives up some
    /// power on faint signals, where the assignment could agree on more units than the best matches.
    public static let screen = 5

    /// The agreement test (reads only the sampled rows), or nil when the pairing has no two sources.
    public static func estimate(_ a: Model, _ b: Model, pairing: Pairing) throws(ReadError) -> ResidualAlignment? {
        guard let d = pairing.hiddenSize, d >= 2, let (first, second) = sources(of: pairing, width: d) else { return nil }
        let limit = rowLimit(width: d)
        let (c1, m1) = try correlation(first, a: a, b: b, limit: limit)
        let (c2, m2) = try correlation(second, a: a, b: b, limit: limit)
        // The screen: rows' best matches (O(d²)); an independent pair agrees on about one unit.
        func best(_ c: [Float]) -> [Int] {
            (0 ..< d).map { i in
                var j = 0
                for k in 1 ..< d where c[i * d + k] > c[i * d + j] { j = k }
                return j
            }
        }
        let screened = zip(best(c1), best(c2)).filter { $0 == $1 }.count
        guard screened >= screen else {
            return ResidualAlignment(units: d, sampledRows: min(m1, m2), sources: [first.a.name, second.a.name], bestMatchAgreement: screened)
        }
        let p1 = LinearAssignment.maximize(c1, n: d).columnOfRow
        let p2 = LinearAssignment.maximize(c2, n: d).columnOfRow
        let matched = zip(p1, p2).filter { $0 == $1 }.count
        let pi = matched == d ? p1 : LinearAssignment.maximize(zip(c1, c2).map { $0 + $1 }, n: d).columnOfRow
        var mean = 0.0
        for i in 0 ..< d { mean += Double(c1[i * d + pi[i]]) }
        var permutation = [Int](repeating: 0, count: d)
        for i in 0 ..< d { permutation[pi[i]] = i }
        return ResidualAlignment(units: d, sampledRows: min(m1, m2), sources: [first.a.name, second.a.name], bestMatchAgreement: screened, matchedUnits: matched,
                                 log10PValue: Numbers.rounded(FixedPoints.log10AtLeast(matched, units: d), places: 2),
                                 fixedUnits: (0 ..< d).filter { pi[$0] == $0 }.count,
                                 meanMatchedCorrelation: Numbers.significant(mean / Double(d)),
                                 permutationHead: Array(permutation.prefix(16)), permutationChecksum: LayerAlignment.checksum(permutation),
                                 tensors: nil, permutation: permutation)
    }

    /// Modules whose 1-D parameters live in the residual stream (biases of the projections that
    /// write it); norms always do.
    static func residualVector(_ pair: TensorPair, width d: Int) -> Bool {
        guard pair.a.shape == [d], pair.b.shape == [d] else { return false }
        if pair.kind == .norm || pair.key.lowercased().contains("norm") { return true }   // gains and LayerNorm biases
        return pair.kind == .bias && TensorPairing.writesResidual.contains { pair.key.contains($0 + ".") } && !pair.key.contains("intermediate")
    }

    /// Every tensor with a residual axis, measured with b's residual units in a's order
    /// (`columnOfRow[i]`: b's unit for a's unit i).
    static func measure(_ a: Model, _ b: Model, pairs: [TensorPair], width d: Int, columnOfRow pi: [Int]) throws(ReadError) -> [AlignedTensor] {
        var result = [AlignedTensor]()
        let ones = [Double](repeating: 1, count: d)
        for pair in pairs {
            let vector = residualVector(pair, width: d)
            let matrix = pair.a.shape.count == 2 && pair.b.shape.count == 2 && pair.a.rowLength == pair.b.rowLength
            guard vector || (matrix && ((pair.hiddenAxis == 1 && pair.a.rowLength == d) || (pair.hiddenAxis == 0 && pair.rows == d))) else { continue }
            let rows = vector ? 1 : pair.rows, length = vector ? d : pair.a.rowLength
            func load(_ t: TensorInfo, _ map: RowMap, _ model: Model) throws(ReadError) -> [Float] {
                var stored = [Float](repeating: 0, count: rows * length)
                try stored.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try model.decodeRows(of: t, 0 ..< rows, into: p.baseAddress!) }
                guard map != .identity else { return stored }
                var canonical = stored
                for r in 0 ..< rows {
                    let s = map.storedRow(r, rows: t.rowCount)
                    for c in 0 ..< length { canonical[r * length + c] = stored[s * length + c] }
                }
                return canonical
            }
            var va = try load(pair.a, pair.rowMapA, a), vb = try load(pair.b, pair.rowMapB, b)
            var width = 1
            if !vector && pair.hiddenAxis == 1 {   // residual columns: units of `rows` values
                va = FloatMatrix.transposed(va, rows: rows, columns: length); vb = FloatMatrix.transposed(vb, rows: rows, columns: length)
                width = rows
            } else if !vector {
                width = length
            }
            let t = UnitTensor(a: pair.a.name, b: pair.b.name, side: .input, width: width, valuesA: va, valuesB: vb,
                               format: UnitAlignment.narrower(pair.a.type.floatFormat, pair.b.type.floatFormat))
            result.append(UnitAlignment.measure(t, units: d, pi: pi, scales: ones))
        }
        return result
    }

    /// Measures the pairs after alignment and returns the report with them.
    static func apply(_ found: ResidualAlignment, _ a: Model, _ b: Model, pairs: [TensorPair]) throws(ReadError) -> ResidualAlignment {
        var pi = [Int](repeating: 0, count: found.units)
        for (j, i) in found.permutation.enumerated() { pi[i] = j }
        var result = found
        result.tensors = try measure(a, b, pairs: pairs, width: found.units, columnOfRow: pi)
        return result
    }
}
