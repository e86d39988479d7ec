import Foundation
import PedigreeFormats

/// The empirical check of the whole compare pipeline's null (verdicts.md section 2): complete
/// small models initialised independently, written to disk and compared with
/// `Comparator.compare`, must be called related at about the rate alpha, although a pair the plain
/// hidden-permutation test calls unrelated gets a second test (the residual-stream alignment);
/// descendants (residual-permuted, head-permuted, both, residual-permuted and fine-tuned copies)
/// must be detected far beyond it.
///
/// Generators, each for a llama-shaped and a BERT-shaped model: `gaussian` (the usual
/// initialisation: matrices N(0, 0.02²), norm gains 1, biases 0), `resampled` (every value drawn
/// from the values of the trained tensor of the same role, from `pools`), and `shared-direction`
/// (Gaussian, plus a token-frequency profile common to both models of a pair written along one
/// random residual direction of each model, in both of the tensors the residual alignment reads:
/// the structure that trained models on the same data share, and the hard case for an agreement
/// test built from two tensors of the same model).
public enum PipelineNullCheck {
    /// A model family's small shape.
    public struct Shape: Sendable, Codable, Equatable {
        public var family: Family
        public var hidden: Int
        public var layers: Int
        public var vocabulary: Int
        public var intermediate: Int
        public var heads: Int
        public var kvHeads: Int
        public var positions: Int

        public enum Family: String, Sendable, Codable { case llama, bert }

        public init(family: Family, hidden: Int = 64, layers: Int = 2, vocabulary: Int = 128, intermediate: Int = 128,
                    heads: Int = 4, kvHeads: Int? = nil, positions: Int = 64) {
            self.family = family
            self.hidden = hidden
            self.layers = layers
            self.vocabulary = vocabulary
            self.intermediate = intermediate
            self.heads = heads
            self.kvHeads = kvHeads ?? (family == .llama ? max(1, heads / 2) : heads)
            self.positions = positions
        }

        var headDim: Int { hidden / heads }

        /// Tensor names and shapes, in the order written.
        var tensors: [(name: String, shape: [Int])] {
            let d = hidden, q = heads * headDim, kv = kvHeads * headDim
            var out = [(String, [Int])]()
            switch family {
            case .llama:
                out.append(("model.embed_tokens.weight", [vocabulary, d]))
                for l in 0 ..< layers {
                    let p = "model.layers.\(l)."
                    out += [(p + "input_layernorm.weight", [d]), (p + "self_attn.q_proj.weight", [q, d]),
                            (p + "self_attn.k_proj.weight", [kv, d]), (p + "self_attn.v_proj.weight", [kv, d]),
                            (p + "self_attn.o_proj.weight", [d, q]), (p + "post_attention_layernorm.weight", [d]),
                            (p + "mlp.gate_proj.weight", [intermediate, d]), (p + "mlp.up_proj.weight", [intermediate, d]),
                            (p + "mlp.down_proj.weight", [d, intermediate])]
                }
                out += [("model.norm.weight", [d]), ("lm_head.weight", [vocabulary, d])]
            case .bert:
                out += [("embeddings.word_embeddings.weight", [vocabulary, d]), ("embeddings.position_embeddings.weight", [positions, d]),
                        ("embeddings.token_type_embeddings.weight", [2, d]), ("embeddings.LayerNorm.weight", [d]), ("embeddings.LayerNorm.bias", [d])]
                for l in 0 ..< layers {
                    let p = "encoder.layer.\(l)."
                    for m in ["query", "key", "value"] { out += [(p + "attention.self.\(m).weight", [q, d]), (p + "attention.self.\(m).bias", [q])] }
                    out += [(p + "attention.output.dense.weight", [d, q]), (p + "attention.output.dense.bias", [d]),
                            (p + "attention.output.LayerNorm.weight", [d]), (p + "attention.output.LayerNorm.bias", [d]),
                            (p + "intermediate.dense.weight", [intermediate, d]), (p + "intermediate.dense.bias", [intermediate]),
                            (p + "output.dense.weight", [d, intermediate]), (p + "output.dense.bias", [d]),
                            (p + "output.LayerNorm.weight", [d]), (p + "output.LayerNorm.bias", [d])]
                }
            }
            return out
        }

        var config: [String: Any] {
            var c: [String: Any] = ["hidden_size": hidden, "num_hidden_layers": layers, "vocab_size": vocabulary,
                                    "intermediate_size": intermediate, "num_attention_heads": heads]
            switch family {
            case .llama:
                c["architectures"] = ["LlamaForCausalLM"]; c["model_type"] = "llama"
                c["num_key_value_heads"] = kvHeads; c["head_dim"] = headDim; c["tie_word_embeddings"] = false
            case .bert:
                c["architectures"] = ["BertModel"]; c["model_type"] = "bert"
                c["max_position_embeddings"] = positions; c["type_vocab_size"] = 2
            }
            return c
        }
    }

    /// The role of a tensor, by name: what `pools` are keyed by.
    public static func role(of name: String) -> String {
        let n = name.lowercased()
        if n.contains("norm") { return n.hasSuffix("bias") ? "norm-bias" : "norm" }
        if n.hasSuffix("bias") { return "bias" }
        for (key, role) in [("embed_tokens", "embedding"), ("word_embeddings", "embedding"), ("position_embeddings", "position"),
                            ("token_type", "token-type"), ("lm_head", "output-head"), ("q_proj", "query"), ("self.query", "query"),
                            ("k_proj", "key"), ("self.key", "key"), ("v_proj", "value"), ("self.value", "value"),
                            ("o_proj", "attention-output"), ("attention.output.dense", "attention-output"),
                            ("gate_proj", "mlp-in"), ("up_proj", "mlp-in"), ("intermediate.dense", "mlp-in"),
                            ("down_proj", "mlp-out"), ("output.dense", "mlp-out")] where n.contains(key) {
            return role
        }
        return "other"
    }

    /// Every value of each role's tensors of a (trained) model, to resample from.
    public static func pools(from model: Model) throws(ReadError) -> [String: [Float]] {
        var pools = [String: [Float]]()
        for t in model.tensors where t.type.floatFormat != nil {
            var v = [Float](repeating: 0, count: t.rowCount * t.rowLength)
            try v.withUnsafeMutableBufferPointer { (p) throws(ReadError) in try model.decodeRows(of: t, 0 ..< t.rowCount, into: p.baseAddress!) }
            pools[role(of: t.name), default: []] += v
        }
        return pools
    }

    /// One generated model: tensors in `shape.tensors` order.
    struct Weights { var shape: Shape; var values: [[Float]] }

    static func generate(_ shape: Shape, kind: String, pools: [String: [Float]], profile: [Float]?, random: inout SeededRandom) -> Weights {
        let tensors = shape.tensors
        var values = [[Float]]()
        for (name, dims) in tensors {
            let count = dims.reduce(1, *), r = role(of: name)
            if kind == "resampled", let pool = pools[r], !pool.isEmpty {
                values.append((0 ..< count).map { _ in pool[Int(random.next() % UInt64(pool.count))] })
            } else if dims.count == 1 {
                values.append([Float](repeating: r == "norm" ? 1 : 0, count: count))
            } else {
                values.append((0 ..< count).map { _ in 0.02 * random.gaussian() })
            }
        }
        if kind == "shared-direction", let profile {
            // One random unit direction of this model's residual stream carries the pair's profile.
            var u = (0 ..< shape.hidden).map { _ in random.gaussian() }
            let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            u = u.map { $0 / norm }
            let d = shape.hidden, scale = 0.02 * Float(d).squareRoot()
            for (i, t) in tensors.enumerated() where ["embedding", "output-head", "position"].contains(role(of: t.name)) {
                for row in 0 ..< t.shape[0] { for c in 0 ..< d { values[i][row * d + c] += scale * profile[row % profile.count] * u[c] } }
            }
        }
        return Weights(shape: shape, values: values)
    }

    /// A standardised, heavy-tailed token profile (log of a Zipf law over a random token order).
    static func profile(count: Int, random: inout SeededRandom) -> [Float] {
        let order = random.permutation(count)
        var f = order.map { Float(-log(Double($0 + 1))) }
        let mean = f.reduce(0, +) / Float(count)
        f = f.map { $0 - mean }
        let sd = (f.reduce(0) { $0 + $1 * $1 } / Float(count)).squareRoot()
        return f.map { $0 / sd }
    }

    static func write(_ w: Weights, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tensors = zip(w.shape.tensors, w.values).map { t, v in
            SafetensorsWriter.Tensor(name: t.name, dtype: .f32, shape: t.shape, data: v.withUnsafeBytes { Array($0) })
        }
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        let json = try JSONSerialization.data(withJSONObject: w.shape.config, options: [.sortedKeys])
        try json.write(to: URL(fileURLWithPath: dir + "/config.json"))
    }

    // MARK: descendants

    static func takeRows(_ v: [Float], width: Int, _ rows: [Int]) -> [Float] { rows.flatMap { r in v[(r * width) ..< ((r + 1) * width)] } }

    static func takeColumns(_ v: [Float], width: Int, _ columns: [Int]) -> [Float] {
        var out = v
        for r in 0 ..< v.count / width { for (j, c) in columns.enumerated() { out[r * width + j] = v[r * width + c] } }
        return out
    }

    /// `w` with its residual stream permuted (b's unit j holds a's unit p[j]): every column that
    /// reads the stream, the output rows of the projections that write it, norm gains and biases,
    /// the biases of the writers. The function is unchanged.
    static func residualPermuted(_ w: Weights, _ p: [Int]) -> Weights {
        let d = w.shape.hidden
        var out = w
        for (i, t) in w.shape.tensors.enumerated() {
            let r = role(of: t.name), v = w.values[i]
            let writes = ["o_proj.", "down_proj.", "attention.output.dense.", "output.dense."].contains { t.name.contains($0) }
                && !t.name.contains("intermediate")
            if t.shape == [d] {
                if r == "norm" || r == "norm-bias" || writes { out.values[i] = p.map { v[$0] } }
                continue
            }
            var x = v
            if t.shape.count == 2, t.shape[1] == d, r != "attention-output" { x = takeColumns(x, width: d, p) }
            if t.shape.count == 2, t.shape[0] == d, writes { x = takeRows(x, width: t.shape[1], p) }
            out.values[i] = x
        }
        return out
    }

    /// `w` with the attention heads of layer 0 permuted (key/value groups moved whole, query
    /// heads within their group; never the identity), the function unchanged.
    static func headPermuted(_ w: Weights, random: inout SeededRandom) -> Weights {
        let s = w.shape, hd = s.headDim, perGroup = s.heads / s.kvHeads
        var groups = [Int](), heads = Array(0 ..< s.heads)
        while heads == Array(0 ..< s.heads) {   // not the identity
            groups = random.permutation(s.kvHeads)
            heads = groups.flatMap { g in random.permutation(perGroup).map { g * perGroup + $0 } }
        }
        func rows(_ order: [Int]) -> [Int] { order.flatMap { h in (0 ..< hd).map { h * hd + $0 } } }
        let q = rows(heads), kv = rows(s.kvHeads == s.heads ? heads : groups)
        var out = w
        for (i, t) in s.tensors.enumerated() where t.name.contains("layers.0.") || t.name.contains("layer.0.") {
            let v = w.values[i], r = role(of: t.name)
            switch (r, t.shape.count) {
            case ("query", 2): out.values[i] = takeRows(v, width: s.hidden, q)
            case ("key", 2), ("value", 2): out.values[i] = takeRows(v, width: s.hidden, kv)
            case ("bias", 1) where t.name.contains("self.query"): out.values[i] = q.map { v[$0] }
            case ("bias", 1) where t.name.contains("self.key") || t.name.contains("self.value"): out.values[i] = kv.map { v[$0] }
            case ("attention-output", 2): out.values[i] = takeColumns(v, width: s.heads * hd, q)
            default: break
            }
        }
        return out
    }

    /// `w` with Gaussian noise of `fraction` of each matrix's RMS added to every matrix.
    static func fineTuned(_ w: Weights, fraction: Float, random: inout SeededRandom) -> Weights {
        var out = w
        for (i, t) in w.shape.tensors.enumerated() where t.shape.count == 2 {
            let v = w.values[i]
            let rms = (v.reduce(0) { $0 + $1 * $1 } / Float(max(v.count, 1))).squareRoot()
            out.values[i] = v.map { $0 + fraction * rms * random.gaussian() }
        }
        return out
    }

    // MARK: the check

    /// One compared pair.
    public struct Pair: Sendable, Codable, Equatable {
        public var kind: String
        public var relation: Relation
        public var method: String
        public var log10PValue: Double
        /// The residual-stream agreement's log10 p (nil when it was not run or stopped at the screen).
        public var residualLog10PValue: Double?
    }

    public struct KindCount: Sendable, Codable, Equatable {
        public var pairs = 0
        /// Called related by the plain hidden-permutation test.
        public var plainFalsePositives = 0
        /// Called unrelated by the plain test, then related by the residual-stream alignment.
        public var residualFalsePositives = 0
        /// The residual-stream agreement alone below its share of alpha (alpha/2), whatever the
        /// final verdict: the pairs on which only the confirming tensors kept the verdict unrelated.
        public var residualAgreementsBelowAlpha = 0
    }

    public struct Descendant: Sendable, Codable, Equatable {
        public var name: String
        public var relation: Relation
        public var log10PValue: Double
        public var detected: Bool
    }

    public struct Result: Sendable, Codable, Equatable {
        public var alpha: Double
        public var pairs: Int
        public var kinds: [String: KindCount]
        public var plainFalsePositives: Int
        public var residualFalsePositives: Int
        public var residualAgreementsBelowAlpha: Int
        /// The whole pipeline's false-positive rate and the upper end of its Wilson 95% interval.
        public var rate: Double
        public var rateUpper95: Double
        public var descendants: [Descendant]
        /// The largest log10 p among the descendants (the weakest detection).
        public var weakestDescendantLog10P: Double
        public var weakestDescendant: String
        public var missedDescendants: [String]
        public var falsePositivePairs: [Pair]
    }

    static func record(_ c: Comparison, kind: String) -> Pair {
        Pair(kind: kind, relation: c.verdict.relation, method: c.verdict.method, log10PValue: c.verdict.log10PValue,
             residualLog10PValue: c.alignment?.residual?.log10PValue)
    }

    /// Compares `pairsPerKind` fresh unrelated pairs of every generator and shape, then the
    /// `fixturePairs` (paths, unrelated by the manifest), then the synthetic descendants and the
    /// `fixtureDescendants`. `pools[family]` holds the trained values to resample from (the
    /// `resampled` generator is skipped for a family without one).
    public static func run(shapes: [Shape] = [Shape(family: .llama), Shape(family: .bert)], pairsPerKind: Int,
                           pools: [Shape.Family: [String: [Float]]] = [:], fixturePairs: [(a: String, b: String)] = [],
                           fixtureDescendants: [(label: String, a: String, b: String)] = [], descendantsPerShape: Int = 2,
                           alpha: Double = 0.01, seed: UInt64 = 1) throws -> Result {
        var random = SeededRandom(seed: seed)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-nullcheck-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let options = CompareOptions(alpha: alpha)
        var counts = [String: KindCount]()
        var falsePositives = [Pair]()
        var serial = 0
        func compare(_ a: Weights, _ b: Weights) throws -> Comparison {
            serial += 1
            let da = root + "/\(serial)a", db = root + "/\(serial)b"
            try write(a, to: da); try write(b, to: db)
            defer { try? FileManager.default.removeItem(atPath: da); try? FileManager.default.removeItem(atPath: db) }
            return Comparator.compare(try Model.open(da), try Model.open(db), options: options)
        }
        func count(_ pair: Pair) {
            var k = counts[pair.kind, default: KindCount()]
            k.pairs += 1
            if pair.relation.isRelated {
                if pair.method == "residual-alignment" { k.residualFalsePositives += 1 } else { k.plainFalsePositives += 1 }
                falsePositives.append(pair)
            }
            if let p = pair.residualLog10PValue, p < log10(alpha / Double(AlignmentJudge.testsPerPair)) { k.residualAgreementsBelowAlpha += 1 }
            counts[pair.kind] = k
        }
        for shape in shapes {
            var kinds = ["gaussian", "shared-direction"]
            if pools[shape.family] != nil { kinds.insert("resampled", at: 1) }
            for kind in kinds {
                let pool = pools[shape.family] ?? [:]
                for _ in 0 ..< pairsPerKind {
                    let profile = kind == "shared-direction" ? Self.profile(count: max(shape.vocabulary, shape.positions), random: &random) : nil
                    let a = generate(shape, kind: kind, pools: pool, profile: profile, random: &random)
                    let b = generate(shape, kind: kind, pools: pool, profile: profile, random: &random)
                    count(record(try compare(a, b), kind: "\(shape.family.rawValue) \(kind)"))
                }
            }
        }
        for (x, y) in fixturePairs {
            count(record(Comparator.compare(try Model.open(x), try Model.open(y), options: options), kind: "fixtures"))
        }
        // Descendants.
        var descendants = [Descendant]()
        func add(_ name: String, _ c: Comparison) {
            descendants.append(Descendant(name: name, relation: c.verdict.relation, log10PValue: c.verdict.log10PValue,
                                          detected: c.verdict.related && c.verdict.log10PValue < -6))
        }
        for shape in shapes {
            let pool = pools[shape.family] ?? [:]
            for i in 0 ..< descendantsPerShape {
                let kinds = pool.isEmpty ? ["gaussian", "shared-direction"] : ["gaussian", "resampled", "shared-direction"]
                let kind = kinds[i % kinds.count]
                let profile = kind == "shared-direction" ? Self.profile(count: max(shape.vocabulary, shape.positions), random: &random) : nil
                let a = generate(shape, kind: kind, pools: pool, profile: profile, random: &random)
                let p = random.permutation(shape.hidden)
                let label = "\(shape.family.rawValue) \(kind) #\(i)"
                add(label + " residual-permuted", try compare(a, residualPermuted(a, p)))
                add(label + " head-permuted", try compare(a, headPermuted(a, random: &random)))
                add(label + " residual- and head-permuted", try compare(a, residualPermuted(headPermuted(a, random: &random), p)))
                add(label + " fine-tuned (noise 0.2 rms) and residual-permuted", try compare(a, residualPermuted(fineTuned(a, fraction: 0.2, random: &random), p)))
            }
        }
        for (label, x, y) in fixtureDescendants {
            add(label, Comparator.compare(try Model.open(x), try Model.open(y), options: options))
        }
        let pairs = counts.values.reduce(0) { $0 + $1.pairs }
        let plain = counts.values.reduce(0) { $0 + $1.plainFalsePositives }
        let residual = counts.values.reduce(0) { $0 + $1.residualFalsePositives }
        let agreements = counts.values.reduce(0) { $0 + $1.residualAgreementsBelowAlpha }
        let (rate, upper) = AlignmentNullCheck.wilson(Double(plain + residual), Double(pairs))
        let weakest = descendants.max { $0.log10PValue < $1.log10PValue }
        return Result(alpha: alpha, pairs: pairs, kinds: counts, plainFalsePositives: plain, residualFalsePositives: residual,
                      residualAgreementsBelowAlpha: agreements, rate: rate, rateUpper95: upper, descendants: descendants,
                      weakestDescendantLog10P: weakest?.log10PValue ?? 0, weakestDescendant: weakest?.name ?? "",
                      missedDescendants: descendants.filter { !$0.detected }.map(\.name), falsePositivePairs: falsePositives)
    }
}
