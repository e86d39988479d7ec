/// Something a comparison or inspection noticed that a reader should know, with a stable code.
public struct Finding: Codable, Sendable, Hashable {
    public enum Severity: String, Codable, Sendable { case info, warning, error }

    public let severity: Severity
    /// A stable kebab-case identifier: `only-in-a`, `only-in-b`, `shape-mismatch`, `extra-vocab-rows`, ...
    public let code: String
    public let tensor: String?
    public let message: String

    public init(_ severity: Severity, _ code: String, tensor: String? = nil, _ message: String) {
        self.severity = severity
        self.code = code
        self.tensor = tensor
        self.message = message
    }
}
