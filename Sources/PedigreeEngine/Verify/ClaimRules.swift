/// The outcome of checking one claim, or the model's result over its claims.
public enum ClaimResult: String, Codable, Sendable {
    case supported, contradicted, inconclusive

    /// verdicts.md section 4: contradicted if any is, else inconclusive if any is, else supported.
    public static func combine(_ results: [ClaimResult]) -> ClaimResult {
        if results.contains(.contradicted) { return .contradicted }
        if results.isEmpty || results.contains(.inconclusive) { return .inconclusive }
        return .supported
    }
}

/// Which relations found by `compare BASE MODEL` support or contradict a claimed relation
/// (verdicts.md section 4), for every relation of section 1.
///
/// - Support: `adapter` by `lora`; `finetune` by `finetune`, `lora`, or `derived` with the base as
///   ancestor; `quantized` by `quantized`; `merge` by `merge` (judged against every claimed parent
///   at once, see `Verifier`); the GGUF self-description (`conversion`) by `identical`,
///   `conversion` or `quantized`; no relation: by any descent from the base.
/// - Always contradicting: `unrelated`; `related` (siblings or partial reuse: neither descends
///   from the other); any relation whose parent is the model, not the claimed base.
/// - Contradicting a claimed relation: a found relation whose judge runs before or beside the
///   claimed one and excludes it (a model that only changed container, dtype, quantization or unit
///   order is no adapter and no fine-tune; a dense fine-tune is no adapter; a fine-tuned or
///   otherwise derived model is no conversion or quantization of the base).
/// - Inconclusive: `inconclusive`, and descent whose kind does not show the claimed relation
///   without excluding it (`derived` for an adapter or a merge: descent is shown, the low-rank
///   update or the merge coefficients are not).
public enum ClaimRules {
    public static func supporting(_ claimed: ClaimedRelation?) -> Set<Relation> {
        switch claimed {
        case nil: descent
        case .adapter: [.lora]
        case .finetune: [.finetune, .lora, .derived]
        case .quantized: [.quantized]
        case .merge: [.merge]
        case .conversion: [.identical, .conversion, .quantized]
        }
    }

    public static func contradicting(_ claimed: ClaimedRelation?) -> Set<Relation> {
        let always: Set<Relation> = [.unrelated, .related]
        switch claimed {
        case nil: return always
        case .adapter: return always.union([.identical, .conversion, .quantized, .permuted, .finetune])
        case .finetune: return always.union([.identical, .conversion, .quantized, .permuted])
        case .quantized: return always.union([.identical, .conversion, .lora, .merge, .permuted, .finetune, .derived])
        case .merge: return always.union([.identical, .conversion, .quantized, .permuted])
        case .conversion: return always.union([.lora, .merge, .permuted, .finetune, .derived])
        }
    }

    /// Relations that say one model descends from the other.
    public static let descent: Set<Relation> = [.identical, .conversion, .quantized, .lora, .merge, .permuted, .finetune, .derived]

    /// The result for a claimed relation, given the verdict of `compare BASE MODEL` (base is a).
    public static func judge(_ claimed: ClaimedRelation?, _ verdict: Verdict) -> (result: ClaimResult, reason: String) {
        let found = verdict.relation
        let claimText = claimed.map { "a claimed \($0.rawValue)" } ?? "the claimed descent"
        if found == .inconclusive { return (.inconclusive, "the comparison cannot decide: \(verdict.summary)") }
        if verdict.parent == "b", descent.contains(found) {
            return (.contradicted, "the weights show the reverse direction: the claimed base descends from the model (\(found.rawValue), parent b)")
        }
        if supporting(claimed).contains(found) {
            return (.supported, "\(found.rawValue) supports \(claimText)")
        }
        if contradicting(claimed).contains(found) {
            switch found {
            case .unrelated: return (.contradicted, "no evidence that the weights descend from the claimed base: \(verdict.summary)")
            case .related: return (.contradicted, "the models share weights but neither descends from the other (siblings or partial reuse), which contradicts \(claimText)")
            default: return (.contradicted, "the comparison with the claimed base finds \(found.rawValue), which contradicts \(claimText)")
            }
        }
        return (.inconclusive, "the weights descend from the claimed base (\(found.rawValue)), but the comparison does not show \(claimText)")
    }
}
