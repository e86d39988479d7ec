/// The storage type of one tensor: a safetensors dtype, a ggml type, or an id no table knows.
public enum TensorType: Hashable, Sendable, CustomStringConvertible {
    case dtype(DType)
    case ggml(GGMLType)
    /// A GGUF type id that is not in ggml's table (or was removed); listed, never decoded.
    case unknownGGML(id: UInt32)
    /// A logical float tensor that a quantization library stores as several tensors (GPTQ, AWQ,
    /// bitsandbytes, FP8, compressed-tensors); decoded from its components.
    case packed(PackedLayout)

    /// The name reports use: `F32`, `Q4_0`, `unknown`.
    public var name: String {
        switch self {
        case .dtype(let d): d.rawValue
        case .ggml(let g): g.name
        case .unknownGGML: "unknown"
        case .packed(let layout): layout.typeName
        }
    }

    public var description: String { name }

    /// The IEEE-like float format of the values, for the plain float types.
    public var floatFormat: FloatFormat? {
        switch self {
        case .dtype(.f64), .ggml(GGMLType.table[28]): .f64
        case .dtype(.f32), .ggml(GGMLType.f32): .f32
        case .dtype(.f16), .ggml(GGMLType.f16): .f16
        case .dtype(.bf16), .ggml(GGMLType.bf16): .bf16
        default: nil
        }
    }

    /// True for block-quantized ggml types.
    public var isBlockQuantized: Bool {
        if case .ggml(let g) = self { return g.isQuantized }
        return false
    }

    /// True for integer and boolean element types (buffers, packed codes).
    public var isInteger: Bool {
        switch self {
        case .dtype(let d): d.isInteger
        case .ggml(let g): ["I8", "I16", "I32", "I64"].contains(g.name)
        case .unknownGGML, .packed: false
        }
    }
}

/// Plain floating-point formats, ordered by width of their value set (F64 ⊃ F32 ⊃ F16, BF16).
public enum FloatFormat: String, Sendable, Codable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"

    /// True when every value of `other` is exactly representable in `self`.
    public func contains(_ other: FloatFormat) -> Bool {
        switch (self, other) {
        case (.f64, _): true
        case (.f32, .f32), (.f32, .f16), (.f32, .bf16): true
        case (.f16, .f16), (.bf16, .bf16): true
        default: false
        }
    }
}
