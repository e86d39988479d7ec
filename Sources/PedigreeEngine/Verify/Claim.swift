import Foundation
import PedigreeFormats

/// The relation a claim states between a model and its claimed base (verdicts.md section 4).
public enum ClaimedRelation: String, Codable, Sendable, CaseIterable {
    /// `base_model_relation: adapter`, or an adapter's `base_model_name_or_path`: supported by `lora`.
    case adapter
    /// `base_model_relation: finetune`: supported by `finetune`, `lora`, or `derived` with the base as ancestor.
    case finetune
    /// `base_model_relation: quantized`: supported by `quantized`.
    case quantized
    /// `base_model_relation: merge`, a list of base models, or a mergekit recipe: supported by `merge`
    /// with the claimed parents.
    case merge
    /// GGUF `general.name` / `general.source.*`: the file itself is that model, converted or
    /// quantized; supported by `identical`, `conversion` or `quantized`.
    case conversion
}

/// How much a claim is worth: a weak claim is reported but never decides the model's result.
public enum ClaimStrength: String, Codable, Sendable {
    case strong
    /// config.json `_name_or_path`: often only the folder the weights were saved from.
    case weak
}

/// One statement about a model's origin, typed: where it was read, which model it names as the
/// base (or the parents of a merge), and the relation it claims.
public struct Claim: Codable, Sendable, Equatable {
    /// `--claimed-base`, `gguf`, `adapter_config.json`, `README.md`, `mergekit_config.yml`, `config.json`.
    public var source: String
    /// The keys the claim was read from (several keys naming the same base make one claim).
    public var keys: [String]
    /// The claimed base model ids (one, or every parent of a merge).
    public var bases: [String]
    /// Claimed weights of a merge's parents, in `bases` order, when the source gives them.
    public var weights: [Double?]?
    /// The claimed relation; nil: any descent from the base supports the claim.
    public var relation: ClaimedRelation?
    public var strength: ClaimStrength

    public init(source: String, keys: [String], bases: [String], weights: [Double?]? = nil,
                relation: ClaimedRelation?, strength: ClaimStrength = .strong) {
        self.source = source
        self.keys = keys
        self.bases = bases
        self.weights = weights
        self.relation = relation
        self.strength = strength
    }

    /// One line describing the claim, e.g. `README.md: base_model org/base, base_model_relation finetune`.
    public var statement: String {
        let names = bases.count == 1 ? bases[0] : "[" + bases.joined(separator: ", ") + "]"
        var text = "\(source) (\(keys.joined(separator: ", "))): \(names)"
        if let relation { text += ", relation \(relation.rawValue)" }
        return text
    }
}

/// Reads the claims a model's files make (verdicts.md section 4, formats.md sections 3.4.5 and 7).
public enum ClaimExtractor {
    /// Every claim, in a fixed order: GGUF keys (what the file is, then its base models), the
    /// adapter config, the model card, the mergekit recipe, config.json `_name_or_path` (weak).
    public static func claims(of model: Model) -> (claims: [Claim], findings: [Finding]) {
        var claims = [Claim]()
        var findings = [Finding]()
        claims += ggufClaims(model)

        if let base = model.adapterConfig?["base_model_name_or_path"]?.stringValue, !base.isEmpty {
            claims.append(Claim(source: "adapter_config.json", keys: ["base_model_name_or_path"], bases: [base], relation: .adapter))
        }

        if let card = model.modelCard {
            let front = ModelCard.frontMatter(card)
            let value: (String) -> String? = { key in front.first { $0.key == key }?.value }
            if let listed = value("base_model") {
                let bases = listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                var relation: ClaimedRelation?
                if let text = value("base_model_relation") {
                    relation = ClaimedRelation(rawValue: text.lowercased())
                    if relation == nil || relation == .conversion {
                        relation = nil
                        findings.append(Finding(.warning, "unknown-base-model-relation",
                                                "README.md: base_model_relation '\(text)' is not adapter, merge, quantized or finetune; any descent is checked"))
                    }
                }
                if bases.count > 1, relation == nil { relation = .merge }   // a list indicates a merge
                var keys = ["base_model"]
                if value("base_model_relation") != nil { keys.append("base_model_relation") }
                if relation == .merge || bases.count > 1 {
                    claims.append(Claim(source: "README.md", keys: keys, bases: bases, relation: relation))
                } else {
                    for base in bases { claims.append(Claim(source: "README.md", keys: keys, bases: [base], relation: relation)) }
                }
            }
        }

        if let recipe = model.mergeRecipe() {
            let parents = recipe.parents
            var keys = ["models"]
            if recipe.baseModel != nil { keys.append("base_model") }
            if let method = recipe.method { keys.insert("merge_method \(method)", at: 0) }
            claims.append(Claim(source: "mergekit_config.yml", keys: keys, bases: parents.map(\.model),
                                weights: parents.map(\.weight), relation: .merge))
        }

        if let path = model.config?["_name_or_path"]?.stringValue, !path.isEmpty {
            claims.append(Claim(source: "config.json", keys: ["_name_or_path"], bases: [path], relation: nil, strength: .weak))
        }
        return (claims, findings)
    }

    /// GGUF: `general.name` (with `general.organization`) and `general.source.*` name what the file
    /// itself is; `general.base_model.{N}.*` name its parents.
    static func ggufClaims(_ model: Model) -> [Claim] {
        guard model.format == .gguf else { return [] }
        let text: (String) -> String? = { key in
            guard let value = model.metadata(key)?.stringValue?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        var claims = [Claim]()
        // What the file is.
        var selfIds = [(id: String, key: String)]()
        if let name = text("general.name") {
            let id = name.contains("/") ? name : (text("general.organization").map { $0 + "/" + name } ?? name)
            selfIds.append((id, "general.name"))
        }
        for key in ["general.source.repo_url", "general.source.url"] {
            if let url = text(key) { selfIds.append((modelId(fromURL: url), key)) }
        }
        for id in orderedUnique(selfIds.map(\.id)) {
            let keys = selfIds.filter { $0.id == id }.map(\.key)
            claims.append(Claim(source: "gguf", keys: keys, bases: [id], relation: .conversion))
        }
        // Its ancestry.
        let isAdapter = text("general.type") == "adapter"
        let count = model.metadata("general.base_model.count").flatMap { Int($0.displayText()) } ?? 0
        for n in 0 ..< min(count, 64) {
            let prefix = "general.base_model.\(n)."
            var id: String?
            var keys = [String]()
            if let name = text(prefix + "name") {
                id = name.contains("/") ? name : (text(prefix + "organization").map { $0 + "/" + name } ?? name)
                keys.append(prefix + "name")
            } else if let url = text(prefix + "repo_url") ?? text(prefix + "url") {
                id = modelId(fromURL: url)
                keys.append(prefix + (text(prefix + "repo_url") != nil ? "repo_url" : "url"))
            }
            if let id { claims.append(Claim(source: "gguf", keys: keys, bases: [id], relation: isAdapter ? .adapter : nil)) }
        }
        return claims
    }

    /// `https://huggingface.co/org/name` (or `hf.co/...`) to `org/name`; other text unchanged.
    public static func modelId(fromURL url: String) -> String {
        var rest = url
        for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) { rest.removeFirst(scheme.count) }
        for host in ["huggingface.co/", "www.huggingface.co/", "hf.co/"] where rest.hasPrefix(host) {
            rest.removeFirst(host.count)
            let parts = rest.split(separator: "/").prefix(2)
            return parts.joined(separator: "/")
        }
        return url
    }

    static func orderedUnique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
