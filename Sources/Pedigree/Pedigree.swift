@_exported import PedigreeEngine
@_exported import PedigreeFormats
@_exported import PedigreeReport

/// The API audit scripts use: plain calls that return `Codable & Sendable` values.
///
/// Every call that reads files throws `ReadError`, whose `code` is stable (`not-found`,
/// `truncated`, `header-too-large`, `git-lfs-pointer`, ...) and whose `description` is the
/// one line the CLI prints.
public enum Pedigree {
    /// The version every output carries.
    public static var version: String { PedigreeVersion.current }

    /// Opens a model from any path a user may give (file, HF directory, shard index, adapter
    /// folder, GGUF split set), reading headers only.
    /// - Throws: `ReadError`.
    public static func open(_ path: String) throws(ReadError) -> Model {
        try Model.open(path)
    }

    /// What a model's headers say: format, tensors, types, parameters, declared lineage.
    /// Reads no tensor data.
    /// - Throws: `ReadError`.
    public static func inspect(_ path: String) throws(ReadError) -> Inspection {
        Inspection(try Model.open(path))
    }

    /// Compares two models tensor by tensor and judges their relation (verdicts.md).
    /// - Throws: `ReadError` when either model cannot be opened.
    public static func compare(_ a: String, _ b: String, options: CompareOptions = CompareOptions()) throws(ReadError) -> Comparison {
        let modelA = try Model.open(a), modelB = try Model.open(b)
        return Comparator.compare(modelA, modelB, options: options)
    }

    /// Compares two opened models.
    public static func compare(_ a: Model, _ b: Model, options: CompareOptions = CompareOptions()) -> Comparison {
        Comparator.compare(a, b, options: options)
    }
}
