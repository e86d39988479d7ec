import Foundation

/// A mergekit recipe (`mergekit_config.yml`, formats.md section 7.2), read just far enough for
/// lineage: the merge method, the base model, and every model the recipe names with its weight.
///
/// mergekit writes the YAML it was given verbatim; only the keys that name parents are read
/// (`base_model`, `models[].model`, `models[].parameters.weight`, `slices[].sources[].model`).
public struct MergeRecipe: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        /// The model id as written (`org/name`, or `repo+lora_repo` for a LoRA applied first).
        public var model: String
        /// `parameters.weight`, when the recipe gives a number.
        public var weight: Double?
        public init(model: String, weight: Double?) { self.model = model; self.weight = weight }
    }

    public var method: String?
    public var baseModel: String?
    /// The models, in the recipe's order, each once.
    public var models: [Entry]

    /// Every parent the recipe names: its models, then the base model if it is not one of them.
    public var parents: [Entry] {
        var result = models
        if let base = baseModel, !result.contains(where: { $0.model == base }) { result.append(Entry(model: base, weight: nil)) }
        return result
    }

    /// Parses the recipe's text; nil when it names no model at all.
    public static func parse(_ text: String) -> MergeRecipe? {
        var recipe = MergeRecipe(method: nil, baseModel: nil, models: [])
        var section: String?          // the top-level key whose block we are in
        var current: Int?             // index of the entry being filled (models section)
        var inParameters = false
        var parametersIndent = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw.hasSuffix("\r") ? raw.dropLast() : raw[...])
            if let hash = line.range(of: " #") { line = String(line[..<hash.lowerBound]) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed == "---" { continue }
            let indent = line.prefix { $0 == " " }.count
            if indent == 0 {
                current = nil
                inParameters = false
                guard let (key, value) = keyValue(trimmed) else { section = nil; continue }
                section = key
                switch key {
                case "merge_method": recipe.method = value.isEmpty ? nil : value
                case "base_model": recipe.baseModel = value.isEmpty ? nil : value
                default: break
                }
                continue
            }
            var item = trimmed
            let startsItem = item.hasPrefix("- ")
            if startsItem { item = String(item.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
            guard let (key, value) = keyValue(item) else { continue }
            switch section {
            case "models":
                if startsItem, key == "model" {
                    recipe.add(value)
                    current = recipe.models.firstIndex { $0.model == value }
                    inParameters = false
                } else if key == "parameters", value.isEmpty {
                    inParameters = true
                    parametersIndent = indent
                } else if inParameters, indent > parametersIndent, key == "weight", let current, let weight = Double(value) {
                    if recipe.models[current].weight == nil { recipe.models[current].weight = weight }
                }
            case "slices":
                if key == "model" { recipe.add(value) }
            case "base_model":
                if key == "model" { recipe.baseModel = value }
            default:
                break
            }
        }
        return recipe.models.isEmpty && recipe.baseModel == nil ? nil : recipe
    }

    mutating func add(_ model: String) {
        guard !model.isEmpty, !models.contains(where: { $0.model == model }) else { return }
        models.append(Entry(model: model, weight: nil))
    }

    static func keyValue(_ text: String) -> (String, String)? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let key = text[..<colon].trimmingCharacters(in: .whitespaces)
        let value = ModelCard.unquote(text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        return key.isEmpty ? nil : (key, value)
    }
}

extension Model {
    /// The mergekit recipe beside the weights (`mergekit_config.yml` in the model's folder), if
    /// any. Read on demand: opening a model does not look for it.
    public func mergeRecipe() -> MergeRecipe? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        let file = ModelPaths.join(folder, "mergekit_config.yml")
        guard let data = FileManager.default.contents(atPath: file), data.count <= 1 << 20 else { return nil }
        return MergeRecipe.parse(String(decoding: data, as: UTF8.self))
    }
}
