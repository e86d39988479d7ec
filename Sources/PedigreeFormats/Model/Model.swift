/// The container a model was read from.
public enum ModelFormat: String, Sendable, Codable {
    case safetensors
    case gguf
}

/// A checkpoint opened read-only: its tensors, what its files declare, and the mapped bytes.
///
/// A `Model` opens from any path a user may give (`Model.open(_:)`): a safetensors or GGUF file, a
/// Hugging Face directory, a sharded index, a PEFT adapter folder, a GGUF split set. Opening reads
/// headers only; tensor data stays in the maps until a caller decodes rows of it.
public final class Model: Sendable {
    /// The path the user gave.
    public let path: String
    public let format: ModelFormat
    /// The GGUF version (1, 2 or 3); nil for safetensors.
    public let version: Int?
    /// The mapped data files (one, or several for shards and splits).
    public let files: [MappedFile]
    /// Every tensor, in file order (shard by shard). A quantized safetensors layout appears as one
    /// logical `.packed` tensor in place of the tensors it is stored as.
    public let tensors: [TensorInfo]
    /// The tensors as the files store them (differs from `tensors` only for quantized layouts).
    public let storedTensors: [TensorInfo]
    /// The quantized safetensors layouts recognised (formats.md section 6), one per scheme.
    public let quantizedLayouts: [QuantizedLayoutSummary]
    /// GGUF key/value pairs in file order (of the first split); empty for safetensors.
    public let ggufMetadata: [GGUFEntry]
    /// The safetensors `__metadata__` map: nil when absent, empty when present and empty.
    /// Non-string values are left out and reported in `findings`.
    public let safetensorsMetadata: [String: String]?
    /// `config.json` beside the weights, if any.
    public let config: JSONValue?
    /// `adapter_config.json` of a PEFT adapter folder, if any.
    public let adapterConfig: JSONValue?
    /// The text of `README.md` beside the weights (a model card), if any.
    public let modelCard: String?
    /// Warnings found while reading.
    public let findings: [ReadFinding]

    private let index: [String: Int]

    public init(path: String, format: ModelFormat, version: Int? = nil, files: [MappedFile], tensors: [TensorInfo],
                ggufMetadata: [GGUFEntry] = [], safetensorsMetadata: [String: String]? = nil,
                config: JSONValue? = nil, adapterConfig: JSONValue? = nil, modelCard: String? = nil,
                findings: [ReadFinding] = []) {
        self.path = path
        self.format = format
        self.version = version
        self.files = files
        var findings = findings
        if format == .safetensors {
            let recognised = LayoutRecognizer.recognise(tensors, config: config, files: files)
            self.tensors = recognised.tensors
            quantizedLayouts = recognised.summaries
            findings += recognised.findings
        } else {
            self.tensors = tensors
            quantizedLayouts = []
        }
        storedTensors = tensors
        self.ggufMetadata = ggufMetadata
        self.safetensorsMetadata = safetensorsMetadata
        self.config = config
        self.adapterConfig = adapterConfig
        self.modelCard = modelCard
        self.findings = findings
        var index = [String: Int]()
        for (i, t) in self.tensors.enumerated() where index[t.name] == nil { index[t.name] = i }
        self.index = index
    }

    /// The tensor named `name`, if the model has one.
    public func tensor(named name: String) -> TensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The stored tensor named `name` (a component of a quantized layout included), if any.
    public func storedTensor(named name: String) -> TensorInfo? {
        storedTensors.first { $0.name == name }
    }

    /// The GGUF value of `key`, if present.
    public func metadata(_ key: String) -> GGUFValue? {
        ggufMetadata.first { $0.key == key }?.value
    }

    /// True when this model is a PEFT adapter folder.
    public var isAdapter: Bool { adapterConfig != nil }

    /// Total number of elements over all tensors.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }

    /// The raw bytes of a tensor (no copy). The reader checked them against the file when opening.
    public func data(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        let file = files[tensor.fileIndex].bytes
        return UnsafeRawBufferPointer(rebasing: file[tensor.byteOffset ..< tensor.byteOffset + tensor.byteCount])
    }

    /// Decodes rows `rows` of `tensor` to Float32 into `buffer` (at least rows.count × rowLength).
    ///
    /// - Throws: `ReadError` `.unsupportedType` when the type has no decoder.
    public func decodeRows(of tensor: TensorInfo, _ rows: Range<Int>, into buffer: UnsafeMutablePointer<Float>) throws(ReadError) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= tensor.rowCount, "row range out of bounds")
        if case .packed(let layout) = tensor.type {
            layout.decode(rows: rows, of: self, into: buffer)
            return
        }
        let rowLength = tensor.rowLength
        guard let rowBytes = TensorDecoder.byteCount(of: tensor.type, elements: rowLength) else {
            throw ReadError(path: path, code: .unsupportedType,
                            message: "tensor \(tensor.name) has type \(tensor.type.name), which cannot be decoded")
        }
        let data = self.data(of: tensor)
        let start = rows.lowerBound * rowBytes
        let source = UnsafeRawBufferPointer(rebasing: data[start ..< start + rows.count * rowBytes])
        guard TensorDecoder.decode(tensor.type, from: source, elementCount: rows.count * rowLength, into: buffer) else {
            throw ReadError(path: path, code: .unsupportedType,
                            message: "tensor \(tensor.name) has type \(tensor.type.name), which this build cannot decode yet")
        }
    }

    /// Gives the pages of `tensor`'s rows `rows` back to the kernel after a streamed pass read them.
    public func releasePages(of tensor: TensorInfo, _ rows: Range<Int>) {
        guard let rowBytes = TensorDecoder.byteCount(of: tensor.type, elements: tensor.rowLength) else { return }
        let start = tensor.byteOffset + rows.lowerBound * rowBytes
        files[tensor.fileIndex].releasePages(in: start ..< start + rows.count * rowBytes)
    }
}
