/// One statement a file makes about where its weights come from, as found, not yet checked.
public struct LineageClaim: Hashable, Sendable, Codable {
    /// Where the claim was read: `gguf`, `safetensors-metadata`, `config.json`,
    /// `adapter_config.json`, `README.md`, `mergekit_config.yml`.
    public let source: String
    /// The key as the source spells it (`general.base_model.0.name`, `_name_or_path`, `r`).
    public let key: String
    /// The value, as text (lists joined with ", ").
    public let value: String

    public init(source: String, key: String, value: String) {
        self.source = source
        self.key = key
        self.value = value
    }
}

/// A warning found while reading: the file is usable, but something in it is off.
public struct ReadFinding: Hashable, Sendable, Codable {
    public let severity: String   // "info" or "warning"
    public let code: String
    public let message: String
    public let tensor: String?

    public init(severity: String = "warning", code: String, message: String, tensor: String? = nil) {
        self.severity = severity
        self.code = code
        self.message = message
        self.tensor = tensor
    }
}
