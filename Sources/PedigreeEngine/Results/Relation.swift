/// The relations of verdicts.md section 1, in the order the rules try them (first match wins).
public enum Relation: String, Codable, Sendable, CaseIterable {
    case identical, conversion, quantized, lora, merge, permuted, finetune, derived, related, unrelated, inconclusive

    /// True for every relation that says the two models share weights.
    public var isRelated: Bool { self != .unrelated && self != .inconclusive }
}
