import PedigreeFormats

/// The result of `inspect` (`pedigree.inspect/1`): what a model's headers say, without reading
/// tensor data.
public struct Inspection: Codable, Sendable, Equatable {
    public struct Tensor: Codable, Sendable, Equatable {
        public var name: String
        /// PyTorch order (outermost first).
        public var shape: [Int]
        /// `F32`, `Q4_K`, ... or `unknown`.
        public var type: String
        /// The raw GGUF type id, for a type the reader does not know.
        public var typeId: UInt32?
        /// Stored bytes (absent when the type cannot be sized).
        public var bytes: Int?
    }

    /// Bytes and tensor count of one storage type.
    public struct TypeTotal: Codable, Sendable, Equatable {
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
    }

    public var schema = "pedigree.inspect/1"
    public var tool = ToolInfo()
    public var path: String
    public var format: String
    public var version: Int?
    public var architecture: String?
    public var tensorCount: Int
    public var parameters: Int
    public var types: [String: TypeTotal]
    public var tensors: [Tensor]
    /// The declared claims found: GGUF lineage keys, `__metadata__`, config.json, adapter_config.json, model card.
    public var lineage: [LineageClaim]
    /// GGUF metadata keys and values (arrays summarised), in file order.
    public var metadata: [MetadataEntry]?
    /// GGUF: per-tensor types, the file type they add up to, and `general.file_type` checked against them.
    public var quantizationSignature: GGUFQuantizationSignature?
    /// Quantized safetensors layouts (GPTQ, AWQ, bitsandbytes, FP8, compressed-tensors), from the headers.
    public var quantizedLayouts: [QuantizedLayoutSummary]?
    /// `inspect --deep`: per float matrix, whether its values sit on a quantization grid.
    public var onceQuantized: [GridSignature]?
    public var findings: [Finding]

    public struct MetadataEntry: Codable, Sendable, Equatable {
        public var key: String
        public var type: String
        public var value: String
    }

    /// Inspects `model` from its headers alone.
    public init(_ model: Model) {
        path = model.path
        format = model.format.rawValue
        version = model.version
        architecture = model.architecture
        tensorCount = model.tensors.count
        parameters = model.parameterCount
        var totals = [String: TypeTotal]()
        tensors = model.tensors.map { t in
            var unknownID: UInt32?
            if case .unknownGGML(let id) = t.type { unknownID = id }
            let bytes = unknownID == nil ? t.byteCount : nil
            var total = totals[t.type.name] ?? TypeTotal(tensors: 0, parameters: 0, bytes: 0)
            total.tensors += 1
            total.parameters += t.elementCount
            total.bytes += bytes ?? 0
            totals[t.type.name] = total
            return Tensor(name: t.name, shape: t.shape, type: t.type.name, typeId: unknownID, bytes: bytes)
        }
        types = totals
        lineage = model.lineage
        metadata = model.format == .gguf
            ? model.ggufMetadata.map { MetadataEntry(key: $0.key, type: $0.value.typeName, value: $0.value.displayText(limit: 8)) }
            : nil
        quantizedLayouts = model.quantizedLayouts.isEmpty ? nil : model.quantizedLayouts
        findings = model.findings.map { f in
            Finding(Finding.Severity(rawValue: f.severity) ?? .warning, f.code, tensor: f.tensor, f.message)
        }
        quantizationSignature = GGUFQuantizationSignature(model)
        findings += quantizationSignature?.findings ?? []
    }
}
