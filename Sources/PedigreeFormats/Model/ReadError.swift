/// An input error: a file that cannot be read as a model, with the path of the culprit,
/// a stable code and one sentence for the user.
///
/// The set of codes is open (as `Errno` is in swift-system): each reader declares its own codes
/// in an extension of `ReadError.Code` beside the rule that raises them, so adding a rule never
/// touches another reader. Codes are stable kebab-case identifiers (verdicts.md section 5).
public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or directory) at fault.
    public let path: String
    /// What is wrong, as a stable identifier.
    public let code: Code
    /// One sentence, without the path or the code.
    public let message: String

    public init(path: String, code: Code, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    /// The line printed on stderr: `<path>: <message> [<code>]`.
    public var description: String { "\(path): \(message) [\(code.rawValue)]" }

    /// A stable kebab-case error identifier.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    /// The same error reported against another path (for example a shard named by an index).
    public func at(_ path: String) -> ReadError { ReadError(path: path, code: code, message: message) }
}

extension ReadError.Code {
    /// The path does not exist.
    public static let notFound = Self("not-found")
    /// The file exists but cannot be opened or mapped (permissions, a device, an I/O error).
    public static let unreadable = Self("unreadable")
    /// The path is neither a safetensors nor a GGUF file nor a model directory.
    public static let notAModel = Self("not-a-model")
    /// The file ends before a structure it declares.
    public static let truncated = Self("truncated")
    /// Bytes follow the last structure the file declares.
    public static let trailingBytes = Self("trailing-bytes")
    /// A tensor name appears twice (in one header, in two shards or in two splits of one model).
    /// Shared by every reader.
    public static let duplicateTensor = Self("duplicate-tensor")
    /// A tensor's element count, bit count, byte size or end offset overflows 64 bits. Shared by every reader.
    public static let validationOverflow = Self("validation-overflow")
    /// A tensor's data is requested in a type this build cannot decode.
    public static let unsupportedType = Self("unsupported-type")
}
