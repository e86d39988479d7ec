import CPedigreeKernels
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

    /// `inspect` plus the analyses that read tensor data (`--deep`): which float matrices sit on
    /// a quantization grid (once quantized, then dequantized).
    /// - Throws: `ReadError`.
    public static func inspect(_ path: String, deep: Bool) throws(ReadError) -> Inspection {
        let model = try Model.open(path)
        var inspection = Inspection(model)
        if deep { try inspection.addGridSignatures(model) }
        return inspection
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

    /// Keeps freed scratch buffers (a few MB per tensor pair) in the process's heap instead of
    /// handing them back to the kernel, which would map and zero fresh pages for every pair. A
    /// process-wide allocator setting (glibc's mmap and trim thresholds): call it once at start,
    /// before comparing; the CLI does. Peak memory stays that of the largest buffers in use.
    public static func keepScratchMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 64 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 128 << 20)
    }

    /// The similarity pass of `compare` alone: every tensor pair measured, no judgement.
    /// - Throws: `ReadError` when either model cannot be opened.
    public static func measure(_ a: String, _ b: String, options: CompareOptions = CompareOptions()) throws(ReadError) -> SimilarityPass {
        let modelA = try Model.open(a), modelB = try Model.open(b)
        return Comparator.measure(modelA, modelB, options: options)
    }

    /// Checks the lineage claims a model's files make (model card, adapter config, GGUF keys,
    /// mergekit recipe, config.json `_name_or_path` as a weak claim), or the one given in
    /// `options.claimedBase`, against its weights (verdicts.md section 4). Claimed ids resolve
    /// through `options.registry` (see `loadModels`).
    /// - Throws: `ReadError` when the model, or a base given as `claimedBase`, cannot be opened.
    public static func verify(_ path: String, options: VerifyOptions = VerifyOptions()) throws(ReadError) -> Verification {
        try Verifier.verify(try Model.open(path), options: options)
    }

    /// Verifies an opened model.
    /// - Throws: `ReadError` when a base given as `claimedBase` cannot be opened.
    public static func verify(_ model: Model, options: VerifyOptions = VerifyOptions()) throws(ReadError) -> Verification {
        try Verifier.verify(model, options: options)
    }

    /// Reads a JSON object mapping model ids to local paths (relative paths resolve against the
    /// file's folder), for `VerifyOptions.registry`.
    /// - Throws: `ReadError` (`not-found`, `models-file-invalid`, ...).
    public static func loadModels(_ file: String) throws(ReadError) -> ModelRegistry {
        try ModelRegistry.load(file)
    }

    /// The family tree of several models: pairwise relations (a cheap pre-filter first, the full
    /// comparison where needed), a spanning forest by Edmonds' algorithm, an edge to each parent
    /// of a merge, undirected edges between related roots.
    /// - Throws: `ReadError` when a model cannot be opened.
    public static func tree(_ paths: [String], options: TreeOptions = TreeOptions()) throws(ReadError) -> FamilyTree {
        var models = [Model]()
        for path in paths { models.append(try Model.open(path)) }
        return TreeBuilder.build(models, options: options)
    }

    /// The family tree of opened models.
    public static func tree(_ models: [Model], options: TreeOptions = TreeOptions()) -> FamilyTree {
        TreeBuilder.build(models, options: options)
    }

    /// The models in a folder, for `tree DIR`: every entry that opens as a model, and the models
    /// of sub-folders that do not (up to three levels), in name order.
    public static func models(in directory: String) -> [String] {
        TreeBuilder.modelPaths(in: directory)
    }
}

// The delta, adapter and merge analyses.
extension Pedigree {
    /// Compares BASE and MERGED and checks MERGED == BASE + scale·B·A for a PEFT adapter.
    /// - Throws: `ReadError` when a model cannot be opened.
    public static func compare(_ base: String, _ merged: String, adapter: String, options: CompareOptions = CompareOptions()) throws(ReadError) -> Comparison {
        let a = try Model.open(base), b = try Model.open(merged), lora = try Model.open(adapter)
        return AdapterAnalysis.compare(base: a, merged: b, adapter: lora, options: options)
    }

    /// Fits CHILD as a merge of `parents` (linear, and task arithmetic relative to `base`).
    /// - Throws: `ReadError` when a model cannot be opened.
    public static func compare(child: String, parents: [String], base: String? = nil, options: CompareOptions = CompareOptions()) throws(ReadError) -> Comparison {
        let c = try Model.open(child)
        var ps = [Model]()
        for p in parents { ps.append(try Model.open(p)) }
        let b = try base.map { path throws(ReadError) in try Model.open(path) }
        return MergeAnalysis.compare(child: c, parents: ps, base: b, options: options)
    }

    /// Writes a PEFT LoRA adapter to `output` from the truncated SVD of MODEL − BASE at `rank`.
    /// - Throws: `ReadError` (`write-failed` when the folder cannot be written).
    public static func extractLoRA(base: String, model: String, rank: Int, saveWhole: Bool = false, output: String) throws(ReadError) -> ExtractionReport {
        let a = try Model.open(base), b = try Model.open(model)
        return try LoRAExporter.extract(base: a, model: b, options: LoRAExporter.Options(rank: rank, saveWhole: saveWhole), to: output)
    }
}
