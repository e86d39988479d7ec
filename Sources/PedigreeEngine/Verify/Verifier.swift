import Foundation
import PedigreeFormats

/// Options of `verify`.
public struct VerifyOptions: Sendable {
    public var alpha = 0.01
    /// Known models (`--models FILE`): claim ids resolve through it.
    public var registry = ModelRegistry()
    /// `--claimed-base ID_OR_PATH`: check this claim instead of the ones the files make.
    public var claimedBase: String?
    /// Judges a merge against all its claimed parents at once (the delta analysis, `compare CHILD
    /// --parents ...`); nil: the segment geometry between two parents is used.
    public var mergeAnalysis: (@Sendable (_ child: Model, _ parents: [Model], _ options: CompareOptions) -> MergeCheck?)?

    public init(alpha: Double = 0.01, registry: ModelRegistry = ModelRegistry(), claimedBase: String? = nil) {
        self.alpha = alpha
        self.registry = registry
        self.claimedBase = claimedBase
    }
}

/// Checks a model's lineage claims against its weights (verdicts.md section 4).
public enum Verifier {
    public static let caveat = "Each check is statistical evidence, not proof: p is the probability of shared weights this strong between independently initialised models, and at the chosen alpha that share of unrelated pairs would pass as related. A supported claim shows that the weights descend from the local checkpoint the claim's id resolved to, as the claimed relation says; it does not show that this checkpoint is the one published under that id, nor who made either model. A contradicted claim shows the weights are not what the claim says (not from that base, or not by that relation). An inconclusive claim could not be tested: the base was not available or the comparison cannot decide."

    /// Verifies `model`'s claims.
    /// - Throws: `ReadError` when the base given with `--claimed-base` cannot be opened.
    public static func verify(_ model: Model, options: VerifyOptions = VerifyOptions()) throws(ReadError) -> Verification {
        var session = Session(model: model, options: options)
        var findings = [Finding]()
        let claims: [Claim]
        if let given = options.claimedBase {
            claims = [Claim(source: "--claimed-base", keys: [], bases: [given], relation: nil)]
        } else {
            let extracted = ClaimExtractor.claims(of: model)
            claims = extracted.claims
            findings += extracted.findings
        }
        var checks = [ClaimCheck]()
        for claim in claims {
            checks.append(try session.check(claim))
        }
        findings += session.findings

        var derivesFrom: [KnownRelative]?
        if checks.contains(where: { $0.decisive && $0.bases.contains { $0.path == nil } }) {
            derivesFrom = session.knownRelatives()
        }
        let decisive = checks.filter(\.decisive)
        let result = ClaimResult.combine(decisive.map(\.result))
        return Verification(model: ModelSummary(model), result: result, alpha: options.alpha,
                            summary: summary(result, checks, derivesFrom), claims: checks, derivesFrom: derivesFrom,
                            caveat: caveat, findings: findings)
    }

    static func summary(_ result: ClaimResult, _ checks: [ClaimCheck], _ relatives: [KnownRelative]?) -> String {
        let decisive = checks.filter(\.decisive)
        guard !decisive.isEmpty else {
            return checks.isEmpty ? "the model's files make no lineage claim to verify (give one with --claimed-base)"
                : "only weak claims (config.json _name_or_path), which are reported but never decisive: nothing to verify"
        }
        let count = { (r: ClaimResult) in decisive.filter { $0.result == r }.count }
        var text = "\(result.rawValue): \(decisive.count) claim\(decisive.count == 1 ? "" : "s") checked, \(count(.supported)) supported, \(count(.contradicted)) contradicted, \(count(.inconclusive)) inconclusive"
        if let first = decisive.first(where: { $0.result == result }), result != .supported {
            text += "; \(first.claim.statement): \(first.reason)"
        }
        if let relatives {
            text += relatives.isEmpty ? "; the weights descend from none of the known models"
                : "; the weights descend from " + relatives.map { "\($0.id) (\($0.relation.rawValue))" }.joined(separator: ", ")
        }
        return text
    }

    /// A claimed base that resolved and was compared.
    struct Resolved {
        let id: String
        let path: String
        let base: Model
        let verdict: Verdict
    }

    /// The state of one verification: the model, opened bases and their comparisons.
    struct Session {
        let model: Model
        let options: VerifyOptions
        let ownPath: String
        var opened = [String: Model]()
        var comparisons = [String: Comparison]()     // by base path: compare(base, model)
        var norms = [String: WeightNorms]()
        var findings = [Finding]()

        init(model: Model, options: VerifyOptions) {
            self.model = model
            self.options = options
            ownPath = URL(fileURLWithPath: model.path).standardizedFileURL.path
        }

        var compareOptions: CompareOptions { CompareOptions(alpha: options.alpha) }

        /// The path a claimed id resolves to, if it is available locally.
        func resolve(_ id: String, given: Bool) -> String? {
            if let path = options.registry.path(of: id) { return path }
            if given, FileManager.default.fileExists(atPath: id) { return URL(fileURLWithPath: id).standardizedFileURL.path }
            return nil
        }

        mutating func open(_ path: String, given: Bool) throws(ReadError) -> Model? {
            if let model = opened[path] { return model }
            do throws(ReadError) {
                let model = try Model.open(path)
                opened[path] = model
                return model
            } catch {
                if given { throw error }
                findings.append(Finding(.warning, "base-unreadable", "\(error.description)"))
                return nil
            }
        }

        mutating func comparison(base path: String, _ base: Model) -> Comparison {
            if let c = comparisons[path] { return c }
            let c = Comparator.compare(base, model, options: compareOptions)
            comparisons[path] = c
            return c
        }

        mutating func weightNorms(_ path: String, _ model: Model) -> WeightNorms {
            if let n = norms[path] { return n }
            let n = WeightNorms(model)
            norms[path] = n
            return n
        }

        mutating func check(_ claim: Claim) throws(ReadError) -> ClaimCheck {
            let given = claim.source == "--claimed-base"
            var bases = [BaseCheck]()
            var verdicts = [Resolved]()
            var missing = [String]()
            for id in claim.bases {
                var check = BaseCheck(id: id)
                guard let path = resolve(id, given: given) else {
                    missing.append(id)
                    bases.append(check)
                    continue
                }
                if path == ownPath {
                    check.path = path
                    check.summary = "the id resolves to the model itself"
                    bases.append(check)
                    missing.append(id)
                    continue
                }
                guard let base = try open(path, given: given) else {
                    missing.append(id)
                    bases.append(check)
                    continue
                }
                let c = comparison(base: path, base)
                let v = c.verdict
                check.path = path
                check.relationFound = v.relation
                check.parentFound = v.parent.map { $0 == "a" ? "base" : "model" }
                check.pValue = v.pValue
                check.log10PValue = v.log10PValue
                check.method = v.method
                check.summary = v.summary
                check.evidence = v.evidence
                check.blocks = c.blocks
                check.relativeDistance = WeightDistance(c, normsA: weightNorms(path, base)).map { Numbers.significant($0.relative, digits: 4) }
                bases.append(check)
                verdicts.append(Resolved(id: id, path: path, base: base, verdict: v))
            }
            var check = ClaimCheck(claim: claim, result: .inconclusive, reason: "", decisive: claim.strength == .strong, bases: bases)
            if !missing.isEmpty {
                let names = missing.joined(separator: ", ")
                check.reason = bases.contains { $0.summary == "the id resolves to the model itself" }
                    ? "the claim names the model itself (\(names)): there is no base to compare with"
                    : "the claimed base \(names) is not available locally (give --models FILE mapping ids to paths)"
                if claim.relation == .merge || verdicts.isEmpty { return check }
            }
            if claim.relation == .merge {
                return mergeCheck(check, verdicts)
            }
            guard let found = verdicts.first else { return check }
            let judged = ClaimRules.judge(claim.relation, found.verdict)
            check.result = judged.result
            check.reason = judged.reason
            if judged.result == .supported, found.verdict.parent == nil, found.verdict.relation != .identical,
               found.verdict.relation != .conversion {
                check.reason += " (the weights do not show the direction; they do not contradict the claimed one)"
            }
            if claim.strength == .weak { check.reason += "; config.json _name_or_path is a weak claim, reported but never decisive" }
            return check
        }

        /// A merge: every claimed parent must be an ancestor; then the merge itself is judged
        /// against all parents at once.
        mutating func mergeCheck(_ start: ClaimCheck, _ verdicts: [Resolved]) -> ClaimCheck {
            var check = start
            for entry in verdicts {
                let judged = ClaimRules.judge(nil, entry.verdict)
                if judged.result == .contradicted {
                    check.result = .contradicted
                    check.reason = "claimed parent \(entry.id): \(judged.reason)"
                    return check
                }
                if judged.result == .inconclusive {
                    check.reason = "claimed parent \(entry.id): \(judged.reason)"
                    return check
                }
            }
            guard check.reason.isEmpty else { return check }   // a parent is missing
            let ids = check.bases.map(\.id)
            if let analysis = options.mergeAnalysis, let merge = analysis(model, verdicts.map(\.base), compareOptions) {
                check.merge = merge
            } else if verdicts.count == 2 {
                check.merge = segmentGeometry(verdicts[0], verdicts[1], claimed: check.claim.weights)
            }
            guard let merge = check.merge else {
                check.reason = "every claimed parent is an ancestor of the model, but a merge of \(verdicts.count) parents is not analysed in this build"
                return check
            }
            if merge.isMerge {
                check.result = .supported
                check.reason = "merge of \(ids.joined(separator: " and ")): \(merge.summary)"
            } else {
                check.reason = "every claimed parent is an ancestor of the model, but \(merge.summary)"
            }
            return check
        }

        mutating func segmentGeometry(_ p1: Resolved, _ p2: Resolved,
                                      claimed: [Double?]?) -> MergeCheck? {
            // Distances measured directly: the segment test needs no statistics.
            guard let d1 = WeightDistance.measure(p1.base, model), let d2 = WeightDistance.measure(p2.base, model),
                  let d12 = WeightDistance.measure(p1.base, p2.base),
                  d1.tensors == d12.tensors, d2.tensors == d12.tensors,
                  let geometry = MergeGeometry(parent1ToChild: d1.absolute, childToParent2: d2.absolute, parent1ToParent2: d12.absolute)
            else { return nil }
            let w1 = Numbers.significant(geometry.weight, digits: 3), w2 = Numbers.significant(1 - geometry.weight, digits: 3)
            let excess = Numbers.significant(geometry.excess, digits: 3)
            var summary: String
            if geometry.isMerge {
                summary = String(format: "the model lies on the segment between its parents (distance ratio 1 + %.2g), as a linear merge with weights %.3g and %.3g", geometry.excess, w1, w2)
                if let claimed, claimed.count == 2, let a = claimed[0], let b = claimed[1], a + b > 0 {
                    let ca = a / (a + b)
                    summary += String(format: "; the recipe's weights %.3g and %.3g %@", a, b, abs(ca - geometry.weight) <= 0.05 ? "agree" : "differ")
                }
            } else {
                summary = String(format: "the model is not on the segment between them (distance ratio 1 + %.2g, weights %.3g / %.3g): not a linear merge of the two; other merge methods are not tested", geometry.excess, w1, w2)
            }
            return MergeCheck(method: "segment-geometry", isMerge: geometry.isMerge, weights: [w1, w2], excess: excess, summary: summary)
        }

        /// Every known model the weights descend from (the model itself left out).
        mutating func knownRelatives() -> [KnownRelative] {
            var seen = Set<String>()
            var result = [KnownRelative]()
            for entry in options.registry.entries where entry.path != ownPath && seen.insert(entry.path).inserted {
                guard let known = try? open(entry.path, given: false) else { continue }
                let v = comparison(base: entry.path, known).verdict
                guard ClaimRules.descent.contains(v.relation), v.parent != "b" else { continue }
                result.append(KnownRelative(id: entry.id, path: entry.path, relation: v.relation,
                                            parent: v.parent == "a" ? "known" : nil, log10PValue: v.log10PValue, summary: v.summary))
            }
            return result
        }
    }
}
