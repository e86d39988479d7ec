import Foundation

extension Model {
    /// The architecture the files declare: GGUF `general.architecture`, else config.json
    /// `architectures[0]` (or `model_type`).
    public var architecture: String? {
        if let arch = metadata("general.architecture")?.stringValue { return arch }
        if let first = config?["architectures"]?.arrayValue?.first?.stringValue { return first }
        return config?["model_type"]?.stringValue
    }

    /// Every lineage claim the files make, in a fixed order: GGUF keys, safetensors
    /// `__metadata__`, config.json, adapter_config.json, the model card's front matter.
    /// Claims are reported as found; `verify` checks them against the weights.
    public var lineage: [LineageClaim] {
        var claims = [LineageClaim]()
        let ggufKeys: (String) -> Bool = { key in
            ["general.name", "general.organization", "general.basename", "general.finetune", "general.version",
             "general.type", "general.quantized_by", "general.base_model.count", "adapter.type", "adapter.lora.alpha"].contains(key)
                || key.hasPrefix("general.base_model.") || key.hasPrefix("general.source.")
        }
        for entry in ggufMetadata where ggufKeys(entry.key) {
            claims.append(LineageClaim(source: "gguf", key: entry.key, value: entry.value.displayText()))
        }
        for (key, value) in (safetensorsMetadata ?? [:]).sorted(by: { $0.key < $1.key }) {
            claims.append(LineageClaim(source: "safetensors-metadata", key: key, value: value))
        }
        for key in ["architectures", "model_type", "_name_or_path"] {
            if let value = config?[key] { claims.append(LineageClaim(source: "config.json", key: key, value: value.displayText)) }
        }
        if let method = config?["quantization_config"]?["quant_method"] {
            claims.append(LineageClaim(source: "config.json", key: "quantization_config.quant_method", value: method.displayText))
        }
        for key in ["peft_type", "base_model_name_or_path", "r", "lora_alpha", "target_modules", "use_rslora"] {
            if let value = adapterConfig?[key] { claims.append(LineageClaim(source: "adapter_config.json", key: key, value: value.displayText)) }
        }
        if let card = modelCard {
            for (key, value) in ModelCard.frontMatter(card) where ModelCard.lineageKeys.contains(key) {
                claims.append(LineageClaim(source: "README.md", key: key, value: value))
            }
        }
        return claims
    }
}

/// The YAML front matter of a model card (formats.md section 7.1), read just far enough for
/// lineage: top-level `key: value` lines and `- item` lists under a key.
public enum ModelCard {
    public static let lineageKeys: Set<String> = ["base_model", "base_model_relation", "library_name", "tags", "license"]

    /// Top-level keys in order, list values joined with ", ". Empty when the card has no front matter.
    public static func frontMatter(_ text: String) -> [(key: String, value: String)] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0[...])
        }
        guard let first = lines.first, first.trimmingCharacters(in: .whitespaces) == "---" else { return [] }
        lines.removeFirst()
        var result = [(key: String, value: String)]()
        var listKey: String?
        var listItems = [String]()
        func flush() {
            if let key = listKey { result.append((key, listItems.joined(separator: ", "))) }
            listKey = nil
            listItems = []
        }
        for line in lines {
            if line.trimmingCharacters(in: .whitespaces) == "---" { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("- "), listKey != nil {
                listItems.append(unquote(String(trimmed.dropFirst(2))))
                continue
            }
            guard !line.hasPrefix(" "), let colon = line.firstIndex(of: ":") else { continue }
            flush()
            let key = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if value.isEmpty {
                listKey = key
            } else if value.hasPrefix("["), value.hasSuffix("]") {
                let items = value.dropFirst().dropLast().split(separator: ",").map { unquote(String($0).trimmingCharacters(in: .whitespaces)) }
                result.append((key, items.joined(separator: ", ")))
            } else {
                result.append((key, unquote(value)))
            }
        }
        flush()
        return result
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, f == s.last, f == "\"" || f == "'" { return String(s.dropFirst().dropLast()) }
        return s
    }
}

