import Foundation
import PedigreeFormats

/// Statistics of a model that survive permutations of hidden units and rescalings: cheap to
/// compute and compare, used to rank or skip candidate pairs before the full comparison, never as
/// a verdict (independent models of one architecture share much of them).
public struct InvariantFingerprint: Codable, Sendable, Equatable {
    /// One matrix: its pairing key and permutation-invariant moments.
    public struct Entry: Codable, Sendable, Equatable {
        public var key: String
        public var rms: Double
        public var std: Double
        public var excessKurtosis: Double
    }
    public var entries: [Entry]
    /// E·Wqᵀ·Wk·Eᵀ of the first layer over the first `tokens` vocabulary rows (row-major), when
    /// the model has a token embedding and a first-layer query and key of the residual width:
    /// invariant to permutations of the residual stream, of heads and of MLP units.
    public var attentionGram: [Float]?
    public var tokens: Int

    /// Profiles every 2-D matrix; `tokens` rows of the embedding enter the attention product.
    public static func of(_ model: Model, tokens: Int = 64) throws(ReadError) -> InvariantFingerprint {
        var entries = [Entry]()
        var embedding: TensorInfo?, query: TensorInfo?, key: TensorInfo?
        for t in model.tensors where t.shape.count == 2 && TensorKind.of(t).carriesEvidence {
            let name = NameMapping.pairingKey(t.name, format: model.format, family: TensorPairing.family(of: model))
            var v = [Float](repeating: 0, count: t.rowCount * t.rowLength)
            try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try model.decodeRows(of: t, 0 ..< t.rowCount, into: p.baseAddress!) }
            var s1 = 0.0, s2 = 0.0
            for x in v { s1 += Double(x); s2 += Double(x) * Double(x) }
            let n = Double(max(v.count, 1)), mean = s1 / n, variance = max(s2 / n - mean * mean, 0)
            var m4 = 0.0
            for x in v { let d = Double(x) - mean; m4 += d * d * d * d }
            entries.append(Entry(key: name, rms: (s2 / n).squareRoot(), std: variance.squareRoot(),
                                 excessKurtosis: variance > 0 ? m4 / n / (variance * variance) - 3 : 0))
            if TensorKind.of(t) == .embedding, embedding == nil, name.contains("word") || name.contains("embed_tokens") { embedding = t }
            if query == nil, name.hasSuffix("query.weight") || name.hasSuffix("q_proj.weight") { query = t }
            if key == nil, name.hasSuffix("key.weight") || name.hasSuffix("k_proj.weight") { key = t }
        }
        var gram: [Float]?
        let m = min(tokens, embedding?.rowCount ?? 0)
        if let e = embedding, let q = query, let k = key, m > 0, q.rowLength == e.rowLength, k.rowLength == e.rowLength {
            let h = e.rowLength
            func load(_ t: TensorInfo, rows: Int) throws(ReadError) -> [Float] {
                var v = [Float](repeating: 0, count: rows * t.rowLength)
                try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try model.decodeRows(of: t, 0 ..< rows, into: p.baseAddress!) }
                return v
            }
            let ev = try load(e, rows: m), qv = try load(q, rows: q.rowCount), kv = try load(k, rows: k.rowCount)
            if q.rowCount == k.rowCount {   // grouped KV heads would need the head map: skipped
                let r = q.rowCount
                func project(_ w: [Float]) -> [Double] {   // E·Wᵀ: m × r
                    var out = [Double](repeating: 0, count: m * r)
                    for t in 0 ..< m { for o in 0 ..< r {
                        var s = 0.0
                        for c in 0 ..< h { s += Double(ev[t * h + c]) * Double(w[o * h + c]) }
                        out[t * r + o] = s
                    } }
                    return out
                }
                let pq = project(qv), pk = project(kv)
                var g = [Float](repeating: 0, count: m * m)
                for x in 0 ..< m { for y in 0 ..< m {
                    var s = 0.0
                    for o in 0 ..< r { s += pq[x * r + o] * pk[y * r + o] }
                    g[x * m + y] = Float(s)
                } }
                gram = g
            }
        }
        return InvariantFingerprint(entries: entries, attentionGram: gram, tokens: m)
    }

    /// A ranking score in [−1, 1]: the Pearson correlation of the attention products when both have
    /// one over the same tokens, else of the log-rms profiles of the matrices both name.
    public func similarity(to other: InvariantFingerprint) -> Double {
        if let g = attentionGram, let h = other.attentionGram, g.count == h.count, tokens == other.tokens {
            return Self.pearson(g.map(Double.init), h.map(Double.init))
        }
        let index = Dictionary(other.entries.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
        var x = [Double](), y = [Double]()
        for e in entries { if let o = index[e.key], e.rms > 0, o.rms > 0 { x.append(log(e.rms)); y.append(log(o.rms)) } }
        return Self.pearson(x, y)
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard x.count >= 2 else { return 0 }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
