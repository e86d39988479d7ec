import Foundation

/// The judgement of a comparison, in the vocabulary of verdicts.md.
///
/// `pValue` is the probability, under the null of independently initialised models, of evidence
/// at least as strong as observed; `log10PValue` always carries its magnitude (also below 1e-300,
/// where `pValue` prints as 0). It is evidence with a measured false-positive rate, not proof.
public struct Verdict: Codable, Sendable, Equatable {
    public var related: Bool
    public var relation: Relation
    /// `"a"`, `"b"` or nil: the side the evidence shows to be the ancestor.
    public var parent: String?
    /// For merges: one entry per parent given.
    public var parents: [MergeParent]?
    public var pValue: Double
    /// Always present (0 when no tensor carries evidence).
    public var log10PValue: Double
    public var alpha: Double
    /// How per-tensor evidence was combined.
    public var method: String
    public var summary: String
    public var evidence: [String]

    public init(relation: Relation, parent: String? = nil, parents: [MergeParent]? = nil, log10PValue: Double?,
                alpha: Double, method: String, summary: String, evidence: [String]) {
        self.related = relation.isRelated
        self.relation = relation
        self.parent = parent
        self.parents = parents
        // Without evidence there is nothing against the null: p = 1 (log10 0), so the key is always there.
        let magnitude = log10PValue ?? 0
        self.log10PValue = Numbers.rounded(magnitude, places: 1)
        self.pValue = magnitude < -300 ? 0 : Numbers.significant(pow(10, magnitude), digits: 4)
        self.alpha = alpha
        self.method = method
        self.summary = summary
        self.evidence = evidence
    }

    enum CodingKeys: String, CodingKey {
        case related, relation, parent, parents, pValue, log10PValue, alpha, method, summary, evidence
    }

    /// Encodes absent values as `null`: the verdict always has every key (verdicts.md section 3).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(related, forKey: .related)
        try c.encode(relation, forKey: .relation)
        try c.encode(parent, forKey: .parent)
        try c.encode(parents, forKey: .parents)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(log10PValue, forKey: .log10PValue)
        try c.encode(alpha, forKey: .alpha)
        try c.encode(method, forKey: .method)
        try c.encode(summary, forKey: .summary)
        try c.encode(evidence, forKey: .evidence)
    }
}

/// One parent of a merge and its weight.
public struct MergeParent: Codable, Sendable, Equatable {
    public var path: String
    public var weight: Double?
    public init(path: String, weight: Double?) { self.path = path; self.weight = weight }
}

/// Number formatting shared by every result, so JSON is byte-identical across runs.
public enum Numbers {
    /// `x` rounded to `digits` significant digits (non-finite values pass through).
    public static func significant(_ x: Double, digits: Int = 6) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let magnitude = Int((log10(Swift.abs(x))).rounded(.down))
        let scale = pow(10, Double(digits - 1 - magnitude))
        guard scale.isFinite, scale > 0 else { return x }
        return (x * scale).rounded() / scale
    }

    /// `x` rounded to `places` decimal places.
    public static func rounded(_ x: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (x * scale).rounded() / scale
    }
}

