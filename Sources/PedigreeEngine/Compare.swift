import PedigreeFormats

/// Options of `compare`.
public struct CompareOptions: Sendable {
    /// The significance level: the relation is `unrelated` when p >= alpha.
    public var alpha = 0.01
    public var measures = PairMeasurer.Options()
    /// Tensor pairs measured at once (nil: one per core). Results do not depend on it.
    public var threads: Int?
    public init(alpha: Double = 0.01, threads: Int? = nil) {
        self.alpha = alpha
        self.threads = threads
    }
}

/// What one tensor pair gave: its measures and its permutation statistic.
public struct PairOutcome: Sendable {
    public let pair: TensorPair
    public let measures: PairMeasures?
    public let statistic: PermutationStatistic?
    /// Why the pair could not be measured.
    public let failure: String?
}

/// The measures of every tensor pair of two models, before any judge has looked at them.
public struct SimilarityPass: Codable, Sendable {
    public let tensors: [TensorComparison]
    /// The permutation statistic of all tensors that share the residual stream, jointly.
    public let jointZ: Double?
    public let jointLog10PValue: Double?
    public let findings: [Finding]
}

/// Compares two models tensor by tensor and judges their relation (design.md, "Data flow").
public enum Comparator {
    public static func compare(_ a: Model, _ b: Model, options: CompareOptions = CompareOptions()) -> Comparison {
        if a.isAdapter != b.isAdapter { return AdapterAnalysis.compare(a, b, options: options) }   // a PEFT adapter and its base
        let pairing = TensorPairing.pair(a, b)
        var findings = pairing.findings
        let streamed = PairStream.run(pairing.pairs, a: a, b: b, options: options)
        let outcomes = streamed.outcomes
        findings += streamed.findings
        let joint = streamed.joint
        let blocks = streamed.blocks
        let judgement = VerdictRules.judge(a: a, b: b, pairing: pairing, outcomes: outcomes,
                                           joint: joint?.statistic, alpha: options.alpha)
        findings += judgement.findings
        let blockEvidence = blocks.sorted { $0.value.order < $1.value.order }.compactMap { name, entry -> BlockEvidence? in
            guard let s = entry.accumulator.statistic else { return nil }
            let shared = outcomes.filter { BlockNaming.block(of: $0.pair) == name && judgement.stronglyShared.contains($0.pair.a.name) }.count
            return BlockEvidence(name: name, units: s.units, tensors: entry.tensors, sharedTensors: shared,
                                 z: Numbers.significant(s.z, digits: 5), log10PValue: Numbers.rounded(s.log10PValue, places: 1),
                                 matchedUnits: judgement.alignment?.layers.first { $0.block == name }?.matchedUnits)
        }
        return Comparison(a: ModelSummary(a), b: ModelSummary(b), verdict: judgement.verdict,
                          tensors: outcomes.map { tensorComparison($0, weighted: judgement.weighted) },
                          blocks: blockEvidence, findings: findings, quantization: judgement.quantization,
                          lora: judgement.lora, merge: judgement.merge, alignment: judgement.alignment)
    }

    /// The similarity pass alone: every tensor pair paired and measured (cosine, relative L2, bit
    /// identity, conversion and re-quantization checks, permutation statistic), with the joint
    /// statistic over the residual stream, and no judgement. `compare` starts with this pass.
    public static func measure(_ a: Model, _ b: Model, options: CompareOptions = CompareOptions()) -> SimilarityPass {
        let pairing = TensorPairing.pair(a, b)
        let streamed = PairStream.run(pairing.pairs, a: a, b: b, options: options)
        let joint = streamed.joint?.statistic
        return SimilarityPass(tensors: streamed.outcomes.map { tensorComparison($0, weighted: []) },
                              jointZ: joint.map { Numbers.significant($0.z, digits: 5) },
                              jointLog10PValue: joint.map { Numbers.rounded($0.log10PValue, places: 1) },
                              findings: pairing.findings + streamed.findings)
    }

    static func tensorComparison(_ outcome: PairOutcome, weighted: Set<String>) -> TensorComparison {
        let pair = outcome.pair, m = outcome.measures
        let significant: (Double?) -> Double? = { $0.map { Numbers.significant($0) } }
        return TensorComparison(
            a: pair.a.name, b: pair.b.name, kind: pair.kind, shape: pair.a.shape,
            shapeB: pair.a.shape == pair.b.shape ? nil : pair.b.shape,
            dtypeA: pair.a.type.name, dtypeB: pair.b.type.name,
            rowsCompared: pair.rows < pair.a.rowCount ? pair.rows : nil,
            cosine: significant(m?.cosine), relL2: significant(m?.relativeL2), maxAbsDiff: significant(m?.sums.maxAbsDiff),
            bitIdentical: m?.bitIdentical ?? false, roundingMismatches: m?.rounding?.mismatches,
            requantization: m?.requantization,
            z: outcome.statistic.map { Numbers.significant($0.z, digits: 5) },
            log10PValue: outcome.statistic.map { Numbers.rounded($0.log10PValue, places: 1) },
            weight: weighted.contains(pair.a.name) ? 1 : 0, note: outcome.failure)
    }
}

extension PermutationStatistic {
    /// The statistic without its centred matrix (kept only while accumulating).
    var withoutDetail: PermutationStatistic { PermutationStatistic(units: units, z: z, normalizedCentred: []) }
}

/// Names the block a tensor belongs to: `embeddings`, `<layer>.attention`, `<layer>.mlp`, `head`.
enum BlockNaming {
    static func block(of pair: TensorPair) -> String {
        let key = pair.key
        let parts = key.split(separator: ".").map(String.init)
        if let index = parts.firstIndex(where: { Int($0) != nil }), index > 0 {
            let layer = parts[0 ... index].joined(separator: ".")
            let rest = parts[(index + 1)...].joined(separator: ".")
            let attentionMarks = ["attn", "attention", "query", "key", "value"]
            return layer + (attentionMarks.contains(where: { rest.contains($0) }) ? ".attention" : ".mlp")
        }
        if pair.kind == .embedding { return "embeddings" }
        if key.hasPrefix("lm_head") || key.hasPrefix("output") { return "head" }
        return "other"
    }
}
