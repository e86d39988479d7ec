import CPedigreeKernels
import Foundation
import PedigreeFormats

/// Attention-head alignment: which head of b is which head of a, layer by layer.
///
/// Permuting the heads of an attention layer (the query, key and value rows moved in blocks of
/// `headDim`, the output projection's columns moved the same way) leaves the network function
/// unchanged; so does, in a model without rotary position embeddings, a permutation of a head's
/// coordinates applied to both its query and key rows (another one to its value rows and output
/// columns). Heads are compared through what those moves leave unchanged: the bilinear form
/// Wqᵀ·Wk of each head (residual × residual) and its value-output product Wo·Wv. The cosine of
/// two heads' forms comes from the cross Gram matrices of the rows, Σ (Qa·Qbᵀ) ∘ (Ka·Kbᵀ) over a
/// pair of head blocks, without forming the residual × residual products.
///
/// Heads are matched by the exact linear assignment twice, from the query/key forms and from the
/// value/output forms: independent models give two unrelated matchings, a copy the same one. The
/// agreement is the layer's statistic; its p-value is the exact upper tail of the fixed points of
/// a uniform random permutation of the heads (for grouped-query attention, of the permutations
/// that move a key/value head with its group of query heads). With 6 to 32 heads that bound is
/// weak (log10 p of about −5 to −35 at full agreement): `permuted` rests on the equality of every
/// tensor after alignment, not on the p-value. The reported permutation is the assignment on
/// both forms together. Then, for models without rotary embeddings and with one key/value head
/// per query head, each matched head's coordinates are matched as well (query and key rows
/// together, value rows and output columns together), and every tensor is measured again.
///
/// Head counts come from `config.json` (`num_attention_heads`, `num_key_value_heads`) or GGUF
/// metadata (`{arch}.attention.head_count`, `head_count_kv`); without them heads are not aligned.
public enum HeadAlignment {
    static let queryModules = ["attention.self.query", "self_attn.q_proj", "attn.q_proj"]
    static let keyModules = ["attention.self.key", "self_attn.k_proj", "attn.k_proj"]
    static let valueModules = ["attention.self.value", "self_attn.v_proj", "attn.v_proj"]
    static let outputModules = ["attention.output.dense", "self_attn.o_proj", "attn.o_proj", "attn.out_proj"]

    enum Role: Sendable { case query, key, value, output }

    /// One attention layer found in a pairing.
    struct LayerPairs {
        var block: String
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var withinHead: Bool
        var weights: [Role: TensorPair]
        var biases: [Role: TensorPair]
    }

    /// The role of a pair in an attention layer, and whether it is a bias (nil when it has none:
    /// the output projection's bias lives in the residual stream and is not moved by heads).
    static func role(of pair: TensorPair) -> (Role, Bool)? {
        let key = pair.key
        let isWeight = key.hasSuffix(".weight") && pair.a.shape.count == 2
        let isBias = key.hasSuffix(".bias") && pair.a.shape.count == 1
        guard isWeight || isBias else { return nil }
        let module = String(key.dropLast(isWeight ? 7 : 5))
        let roles: [(Role, [String])] = [(.query, queryModules), (.key, keyModules), (.value, valueModules), (.output, outputModules)]
        for (role, modules) in roles where modules.contains(where: { module.hasSuffix($0) }) {
            if role == .output && isBias { return nil }
            return (role, isBias)
        }
        return nil
    }

    /// a's names of the pairs head alignment would move (query/key/value weights and biases, output weights).
    static func candidateTensors(of pairing: Pairing) -> Set<String> {
        Set(pairing.pairs.filter { role(of: $0) != nil }.map { $0.a.name })
    }

    /// Head counts a model declares: (heads, key/value heads, head width if declared).
    public static func headCounts(_ model: Model) -> (heads: Int, kvHeads: Int, headDim: Int?)? {
        if let c = model.config, let h = c["num_attention_heads"]?.intValue ?? c["n_head"]?.intValue, h > 0 {
            let kv = c["num_key_value_heads"]?.intValue ?? h
            return (h, kv > 0 ? kv : h, c["head_dim"]?.intValue)
        }
        if let arch = model.metadata("general.architecture")?.stringValue,
           let h = model.metadata("\(arch).attention.head_count")?.intValue, h > 0 {
            let kv = model.metadata("\(arch).attention.head_count_kv")?.intValue ?? h
            return (h, kv > 0 ? kv : h, model.metadata("\(arch).attention.key_length")?.intValue)
        }
        return nil
    }

    /// True when the model's attention has no rotary position embedding (absolute positions):
    /// only then are a head's coordinates free to move.
    static func absolutePositions(_ model: Model) -> Bool {
        if let type = model.config?["model_type"]?.stringValue {
            return ["bert", "roberta", "xlm-roberta", "distilbert", "electra", "camembert", "mpnet"].contains(type)
                && (model.config?["position_embedding_type"]?.stringValue ?? "absolute") == "absolute"
        }
        if model.format == .gguf { return TensorPairing.family(of: model) == .bert }
        return false
    }

    /// The attention layers of a pairing, and why heads cannot be aligned when they cannot.
    static func layers(of pairing: Pairing, a: Model, b: Model) -> (layers: [LayerPairs], note: String?) {
        var order = [String]()
        var found = [String: [(TensorPair, Role, Bool)]]()
        for pair in pairing.pairs where pair.a.shape == pair.b.shape {
            guard let (role, isBias) = role(of: pair) else { continue }
            let block = BlockNaming.block(of: pair)
            if found[block] == nil { order.append(block); found[block] = [] }
            found[block]!.append((pair, role, isBias))
        }
        guard !order.isEmpty else { return ([], nil) }
        let countsA = headCounts(a), countsB = headCounts(b)
        guard let counts = countsA ?? countsB else {
            return ([], "attention heads not aligned: neither model declares its head count (config.json num_attention_heads or GGUF attention.head_count), and it is not guessed")
        }
        if let x = countsA, let y = countsB, x.heads != y.heads || x.kvHeads != y.kvHeads {
            return ([], "attention heads not aligned: the models declare different head counts (\(x.heads)/\(x.kvHeads) and \(y.heads)/\(y.kvHeads))")
        }
        let h = counts.heads, kv = counts.kvHeads
        guard kv >= 1, h % kv == 0 else { return ([], "attention heads not aligned: \(h) heads do not split into \(kv) key/value groups") }
        let withinHead = absolutePositions(a) && absolutePositions(b) && kv == h
        var result = [LayerPairs]()
        var skipped = [String]()
        for block in order {
            var weights = [Role: TensorPair](), biases = [Role: TensorPair]()
            for (pair, role, isBias) in found[block]! {
                if isBias { biases[role] = pair } else { weights[role] = pair }
            }
            guard let q = weights[.query], let k = weights[.key], let v = weights[.value], let o = weights[.output] else {
                skipped.append(block); continue
            }
            let d = q.a.rowLength
            let hd = counts.headDim ?? q.a.rowCount / h
            let consistent = hd > 0 && q.a.rowCount == h * hd && k.a.shape == [kv * hd, d] && v.a.shape == [kv * hd, d]
                && o.a.shape == [d, h * hd]
                && biases.allSatisfy { role, pair in pair.a.shape == [(role == .query ? h : kv) * hd] }
                && [q, k, v, o].allSatisfy { $0.rowMapA.fits(rows: $0.a.rowCount) && $0.rowMapB.fits(rows: $0.b.rowCount) }
            guard consistent, h >= 2 else { skipped.append(block); continue }
            result.append(LayerPairs(block: block, heads: h, kvHeads: kv, headDim: hd, withinHead: withinHead, weights: weights, biases: biases))
        }
        let note = skipped.isEmpty ? nil
            : "attention heads not aligned in \(skipped.joined(separator: ", ")): the query/key/value/output shapes do not fit \(h) heads and \(kv) key/value heads"
        return (result, note)
    }

    /// Rows of one side in canonical (Hugging Face) order.
    static func load(_ t: TensorInfo, map: RowMap, from model: Model) throws(ReadError) -> [Float] {
        let rows = t.rowCount, length = t.rowLength
        var stored = [Float](repeating: 0, count: rows * length)
        try stored.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try model.decodeRows(of: t, 0 ..< rows, into: p.baseAddress!) }
        guard map != .identity else { return stored }
        var canonical = stored
        for r in 0 ..< rows {
            let s = map.storedRow(r, rows: rows)
            for c in 0 ..< length { canonical[r * length + c] = stored[s * length + c] }
        }
        return canonical
    }

    /// Aligns every attention layer the two models share; `residual` (b's residual unit for each of
    /// a's) reorders b's residual axis first.
    public static func align(_ a: Model, _ b: Model, pairing: Pairing, residual: [Int]? = nil) throws(ReadError) -> (layers: [HeadLayerAlignment], note: String?) {
        let (found, note) = layers(of: pairing, a: a, b: b)
        var result = [HeadLayerAlignment]()
        for layer in found {
            var tensors = [Role: UnitTensor]()
            var biasTensors = [Role: UnitTensor]()
            for (role, pair) in layer.weights {
                var va = try load(pair.a, map: pair.rowMapA, from: a), vb = try load(pair.b, map: pair.rowMapB, from: b)
                var width = pair.a.rowLength
                if role == .output {
                    va = FloatMatrix.transposed(va, rows: pair.a.rowCount, columns: pair.a.rowLength)
                    vb = FloatMatrix.transposed(vb, rows: pair.a.rowCount, columns: pair.a.rowLength)
                    width = pair.a.rowCount
                }
                if let residual { vb = UnitAlignment.reorderColumns(vb, width: width, residual) }
                tensors[role] = UnitTensor(a: pair.a.name, b: pair.b.name, side: role == .output ? .output : .input, width: width,
                                           valuesA: va, valuesB: vb, format: UnitAlignment.narrower(pair.a.type.floatFormat, pair.b.type.floatFormat))
            }
            for (role, pair) in layer.biases {
                biasTensors[role] = UnitTensor(a: pair.a.name, b: pair.b.name, side: .bias, width: 1,
                                               valuesA: try load(pair.a, map: pair.rowMapA, from: a), valuesB: try load(pair.b, map: pair.rowMapB, from: b),
                                               format: UnitAlignment.narrower(pair.a.type.floatFormat, pair.b.type.floatFormat))
            }
            result.append(align(block: layer.block, heads: layer.heads, kvHeads: layer.kvHeads, headDim: layer.headDim,
                                withinHead: layer.withinHead,
                                query: tensors[.query]!, key: tensors[.key]!, value: tensors[.value]!, output: tensors[.output]!,
                                biases: [Role.query, .key, .value].compactMap { role in biasTensors[role].map { (role, $0) } }))
        }
        return (result, note)
    }

    /// Aligns one layer. `query`, `key`, `value` hold rows (heads × headDim units of the residual
    /// width), `output` the output projection's columns as rows.
    static func align(block: String, heads h: Int, kvHeads kv: Int, headDim hd: Int, withinHead: Bool,
                      query: UnitTensor, key: UnitTensor, value: UnitTensor, output: UnitTensor,
                      biases: [(Role, UnitTensor)]) -> HeadLayerAlignment {
        let groupSize = h / kv
        let gq = crossGram(query, headDim: hd), gk = crossGram(key, headDim: hd), gv = crossGram(value, headDim: hd), go = crossGram(output, headDim: hd)
        let group: (Int) -> Int = { $0 / groupSize }
        // Head-by-head cosine of the query/key forms and of the value/output forms.
        func formCosine(_ first: Gram, _ firstHead: (Int) -> Int, _ second: Gram, _ secondHead: (Int) -> Int) -> [Float] {
            var s = [Float](repeating: 0, count: h * h)
            for i in 0 ..< h { for j in 0 ..< h {
                let ab = blockProduct(first.ab, first.rows, firstHead(i), firstHead(j), second.ab, second.rows, secondHead(i), secondHead(j), hd)
                let na = blockProduct(first.aa, first.rows, firstHead(i), firstHead(i), second.aa, second.rows, secondHead(i), secondHead(i), hd)
                let nb = blockProduct(first.bb, first.rows, firstHead(j), firstHead(j), second.bb, second.rows, secondHead(j), secondHead(j), hd)
                s[i * h + j] = na > 0 && nb > 0 ? Float(ab / (na * nb).squareRoot()) : 0
            } }
            return s
        }
        let sQK = formCosine(gq, { $0 }, gk, group)
        let sVO = formCosine(gv, group, go, { $0 })
        let piQK = constrainedAssignment(sQK, heads: h, groupSize: groupSize)
        let piVO = constrainedAssignment(sVO, heads: h, groupSize: groupSize)
        let pi = constrainedAssignment(zip(sQK, sVO).map { $0 + $1 }, heads: h, groupSize: groupSize)
        let matched = zip(piQK, piVO).filter { $0 == $1 }.count
        var similarity = 0.0
        for i in 0 ..< h { similarity += Double(sQK[i * h + pi[i]] + sVO[i * h + pi[i]]) / 2 }
        let sigma = (0 ..< kv).map { pi[$0 * groupSize] / groupSize }

        // Within-head coordinates: one matching for query and key rows, one for value rows and output columns.
        var rhoQK = [[Int]](repeating: Array(0 ..< hd), count: h), rhoVO = rhoQK
        if withinHead && groupSize == 1 {
            for i in 0 ..< h {
                rhoQK[i] = coordinateAssignment([gq, gk], i, pi[i], hd)
                rhoVO[i] = coordinateAssignment([gv, go], i, pi[i], hd)
            }
        }
        let moved = (0 ..< h).filter { rhoQK[$0] != Array(0 ..< hd) || rhoVO[$0] != Array(0 ..< hd) }.count
        // Row maps a → b of each tensor.
        func rows(heads count: Int, headOf: (Int) -> Int, rho: [[Int]]) -> [Int] {
            var map = [Int](repeating: 0, count: count * hd)
            for x in 0 ..< count { for r in 0 ..< hd { map[x * hd + r] = headOf(x) * hd + rho[x][r] } }
            return map
        }
        let identityRho = [[Int]](repeating: Array(0 ..< hd), count: max(h, kv))
        let mapQ = rows(heads: h, headOf: { pi[$0] }, rho: rhoQK)
        let mapK = groupSize == 1 ? mapQ : rows(heads: kv, headOf: { sigma[$0] }, rho: identityRho)
        let mapV = groupSize == 1 ? rows(heads: h, headOf: { pi[$0] }, rho: rhoVO) : rows(heads: kv, headOf: { sigma[$0] }, rho: identityRho)
        let mapO = groupSize == 1 ? mapV : rows(heads: h, headOf: { pi[$0] }, rho: identityRho)

        var aligned = [AlignedTensor]()
        var scales = [Role: [Double]]()
        for (role, t, map) in [(Role.query, query, mapQ), (.key, key, mapK), (.value, value, mapV), (.output, output, mapO)] {
            let s = UnitAlignment.unitScales(t, units: map.count, pi: map)
            scales[role] = s
            aligned.append(UnitAlignment.measure(t, units: map.count, pi: map, scales: s))
        }
        for (role, t) in biases {
            let map = role == .query ? mapQ : role == .key ? mapK : mapV
            aligned.append(UnitAlignment.measure(t, units: map.count, pi: map, scales: scales[role]!))
        }
        var permutation = [Int](repeating: 0, count: h)
        for i in 0 ..< h { permutation[pi[i]] = i }
        var kvPermutation = [Int](repeating: 0, count: kv)
        for g in 0 ..< kv { kvPermutation[sigma[g]] = g }
        let within: String = withinHead && groupSize == 1
            ? "aligned: query/key rows and value rows/output columns matched per head"
            : withinHead ? "not attempted: grouped key/value heads share their coordinates with several query heads"
            : "not attempted: rotary position embeddings (or an unknown position scheme) tie a head's coordinates in place"
        return HeadLayerAlignment(block: block, heads: h, kvHeads: kv, headDim: hd, matchedHeads: matched,
                                  fixedHeads: (0 ..< h).filter { pi[$0] == $0 }.count,
                                  meanMatchedSimilarity: Numbers.significant(similarity / Double(h)),
                                  log10PValue: Numbers.rounded(GroupedFixedPoints.log10AtLeast(matched, groups: kv, groupSize: groupSize), places: 2),
                                  permutation: permutation, kvPermutation: groupSize == 1 ? nil : kvPermutation,
                                  withinHead: within, headsWithMovedCoordinates: moved, tensors: aligned)
    }

    /// The cross Gram matrix of a tensor's rows (a·bᵀ) and the head-diagonal blocks of the self
    /// Gram matrices (a·aᵀ, b·bᵀ; zero off the blocks of `hd` rows, which nothing reads), row-major.
    struct Gram {
        var rows: Int
        var ab: [Float], aa: [Float], bb: [Float]
        var normsA: [Float], normsB: [Float]
    }

    static func crossGram(_ t: UnitTensor, headDim hd: Int) -> Gram {
        let w = t.width, n = t.valuesA.count / max(w, 1)
        func product(_ x: [Float], _ y: [Float], blocks: Bool) -> [Float] {
            var m = [Float](repeating: 0, count: n * n)
            x.withUnsafeBufferPointer { px in
                y.withUnsafeBufferPointer { py in
                    m.withUnsafeMutableBufferPointer { out in
                        if !blocks {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(w),
                                        1, px.baseAddress, Int32(w), py.baseAddress, Int32(w), 0, out.baseAddress, Int32(n))
                            return
                        }
                        for b in 0 ..< n / hd {
                            let offset = b * hd
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(hd), Int32(hd), Int32(w),
                                        1, px.baseAddress! + offset * w, Int32(w), py.baseAddress! + offset * w, Int32(w), 0,
                                        out.baseAddress! + offset * n + offset, Int32(n))
                        }
                    }
                }
            }
            return m
        }
        let aa = product(t.valuesA, t.valuesA, blocks: true), bb = product(t.valuesB, t.valuesB, blocks: true)
        return Gram(rows: n, ab: product(t.valuesA, t.valuesB, blocks: false), aa: aa, bb: bb,
                    normsA: (0 ..< n).map { aa[$0 * n + $0].squareRoot() }, normsB: (0 ..< n).map { bb[$0 * n + $0].squareRoot() })
    }

    /// Σ_{r,s < hd} X[x·hd + r, y·hd + s] · Y[u·hd + r, v·hd + s] (X, Y square with `nx`, `ny` rows).
    static func blockProduct(_ x: [Float], _ nx: Int, _ xi: Int, _ xj: Int, _ y: [Float], _ ny: Int, _ yi: Int, _ yj: Int, _ hd: Int) -> Double {
        var s = 0.0
        for r in 0 ..< hd {
            let rx = (xi * hd + r) * nx + xj * hd, ry = (yi * hd + r) * ny + yj * hd
            for c in 0 ..< hd { s += Double(x[rx + c]) * Double(y[ry + c]) }
        }
        return s
    }

    /// The best assignment of query heads under which a key/value head moves with its whole group
    /// (query heads may permute within the group): the assignment of groups on the value of the
    /// best within-group assignments, both exact.
    static func constrainedAssignment(_ s: [Float], heads h: Int, groupSize m: Int) -> [Int] {
        if m == 1 { return LinearAssignment.maximize(s, n: h, candidates: h).columnOfRow }
        let groups = h / m
        var value = [Float](repeating: 0, count: groups * groups)
        var inner = [[Int]](repeating: [], count: groups * groups)
        for g in 0 ..< groups { for k in 0 ..< groups {
            var sub = [Float](repeating: 0, count: m * m)
            for r in 0 ..< m { for c in 0 ..< m { sub[r * m + c] = s[(g * m + r) * h + k * m + c] } }
            let best = LinearAssignment.maximize(sub, n: m, candidates: m)
            value[g * groups + k] = Float(best.total)
            inner[g * groups + k] = best.columnOfRow
        } }
        let sigma = LinearAssignment.maximize(value, n: groups, candidates: groups).columnOfRow
        var pi = [Int](repeating: 0, count: h)
        for g in 0 ..< groups { for r in 0 ..< m { pi[g * m + r] = sigma[g] * m + inner[g * groups + sigma[g]][r] } }
        return pi
    }

    /// The matching of head i's coordinates (of a) to head j's (of b): summed |cosine| of the rows
    /// of the tensors that share them (sign flips of a coordinate in both are function-preserving).
    static func coordinateAssignment(_ grams: [Gram], _ i: Int, _ j: Int, _ hd: Int) -> [Int] {
        var s = [Float](repeating: 0, count: hd * hd)
        for g in grams {
            let n = g.rows
            for r in 0 ..< hd { for c in 0 ..< hd {
                let x = i * hd + r, y = j * hd + c
                let denominator = g.normsA[x] * g.normsB[y]
                if denominator > 0 { s[r * hd + c] += abs(g.ab[x * n + y]) / denominator }
            } }
        }
        return LinearAssignment.maximize(s, n: hd, candidates: hd).columnOfRow
    }
}

/// Fixed points of a uniform random permutation of `groups · groupSize` items that moves whole
/// groups (a uniform permutation of the groups) and, independently, permutes within each group:
/// an item is fixed when its group is and it is fixed within it.
public enum GroupedFixedPoints {
    /// P(X = j) for the fixed points of a uniform permutation of n, j = 0...n.
    static func pmf(_ n: Int) -> [Double] {
        (0 ... n).map { j in
            var s = 0.0, term = 1.0
            for i in 0 ... (n - j) { if i > 0 { term /= Double(i) }; s += i % 2 == 0 ? term : -term }
            return max(0, s) * exp(-lgamma(Double(j) + 1))
        }
    }

    /// log10 P(X >= k).
    public static func log10AtLeast(_ k: Int, groups: Int, groupSize m: Int) -> Double {
        if m == 1 { return FixedPoints.log10AtLeast(k, units: groups) }
        if groups == 1 { return FixedPoints.log10AtLeast(k, units: m) }
        guard k > 0 else { return 0 }
        let n = groups * m
        guard k <= n else { return -.infinity }
        let outer = pmf(groups), inner = pmf(m)
        var total = [Double](repeating: 0, count: n + 1)
        var power = [Double](repeating: 0, count: n + 1)   // distribution of the sum over f fixed groups
        power[0] = 1
        for f in 0 ... groups {
            if f > 0 {
                var next = [Double](repeating: 0, count: n + 1)
                for x in 0 ... n where power[x] > 0 { for y in 0 ... m where x + y <= n { next[x + y] += power[x] * inner[y] } }
                power = next
            }
            for x in 0 ... n { total[x] += outer[f] * power[x] }
        }
        let tail = total[k...].reduce(0, +)
        return tail > 0 ? min(0, log10(tail)) : -.infinity
    }
}
