import CPedigreeKernels

/// How one logical float tensor `<p>.weight` [out, in] is stored as several tensors by a
/// quantization library (formats.md section 6): which scheme, its parameters, and the stored
/// tensors (components) it is decoded from.
///
/// A model whose safetensors hold such a layout lists the logical tensor in `Model.tensors` with
/// type `.packed(layout)`; the components stay reachable in `Model.storedTensors`.
public struct PackedLayout: Hashable, Sendable {
    public enum Scheme: String, Hashable, Sendable, Codable, CaseIterable {
        /// GPTQ (AutoGPTQ v1 / GPTQModel v2): qweight packed along in, qzeros along out, g_idx.
        case gptq
        /// AutoAWQ GEMM: qweight and qzeros packed along out in the interleaved nibble order.
        case awq
        /// bitsandbytes Linear4bit (nf4 or fp4), absmax per block, optionally nested.
        case bitsandbytes4bit = "bitsandbytes-4bit"
        /// bitsandbytes LLM.int8: int8 weight, row absmax SCB.
        case bitsandbytesInt8 = "bitsandbytes-int8"
        /// FP8 with a block-wise `weight_scale_inv` (DeepSeek-V3, transformers FineGrainedFP8).
        case fp8Block = "fp8-block"
        /// A stored float8/int8 weight times `weight_scale` (per tensor, channel or group),
        /// minus an optional zero point (compressed-tensors float- and naive-quantized).
        case scaled
        /// compressed-tensors pack-quantized: int codes packed in I32 words along in.
        case packQuantized = "pack-quantized"
    }

    public let scheme: Scheme
    /// `quantization_config.quant_method` (or what the tensor names imply when there is no config).
    public let quantMethod: String
    public let bits: Int
    /// Elements along `in` that share one scale (bitsandbytes 4-bit: consecutive flat elements);
    /// nil when one scale covers the whole tensor.
    public let groupSize: Int?
    /// FP8 block shape [rows, cols] of one scale.
    public let blockShape: [Int]?
    public let symmetric: Bool
    /// The code set: `int`, `nf4`, `fp4`, `e4m3`, `e5m2`.
    public let codes: String
    /// The logical shape [out, in].
    public let shape: [Int]
    /// Stored tensors by role (`qweight`, `qzeros`, `scales`, `g_idx`, `weight`, `absmax`, ...).
    public let components: [String: TensorInfo]
    /// Added to stored zero points (GPTQ v1 stores z - 1).
    let zeroOffset: Int
    /// bitsandbytes nested absmax: block size and offset.
    let nestedBlockSize: Int
    let nestedOffset: Float

    init(scheme: Scheme, quantMethod: String, bits: Int, groupSize: Int?, blockShape: [Int]? = nil, symmetric: Bool,
         codes: String, shape: [Int], components: [String: TensorInfo], zeroOffset: Int = 0,
         nestedBlockSize: Int = 0, nestedOffset: Float = 0) {
        self.scheme = scheme
        self.quantMethod = quantMethod
        self.bits = bits
        self.groupSize = groupSize
        self.blockShape = blockShape
        self.symmetric = symmetric
        self.codes = codes
        self.shape = shape
        self.components = components
        self.zeroOffset = zeroOffset
        self.nestedBlockSize = nestedBlockSize
        self.nestedOffset = nestedOffset
    }

    /// The type name reports use: `GPTQ-INT4`, `AWQ-INT4`, `BNB-NF4`, `BNB-INT8`, `FP8-E4M3`, ...
    public var typeName: String {
        switch scheme {
        case .gptq: "GPTQ-INT\(bits)"
        case .awq: "AWQ-INT\(bits)"
        case .bitsandbytes4bit: "BNB-\(codes.uppercased())"
        case .bitsandbytesInt8: "BNB-INT8"
        case .fp8Block: "FP8-\(codes.uppercased())-BLOCK"
        case .scaled: codes == "int" ? "INT\(bits)-SCALED" : "FP8-\(codes.uppercased())"
        case .packQuantized: "CT-INT\(bits)"
        }
    }

    /// What one scale covers: `tensor`, `channel` (an output row), `group` (`groupSize` elements of
    /// a row) or `block` (bitsandbytes' flat blocks, FP8's 2-D blocks).
    public var granularity: String {
        switch scheme {
        case .bitsandbytes4bit, .fp8Block: "block"
        case .bitsandbytesInt8: "channel"
        default: groupSize == nil ? "tensor" : (groupSize == rowLength ? "channel" : "group")
        }
    }

    /// True for the schemes whose codes are plain round-to-nearest of the weight with the stored
    /// scales (re-rounding the source reproduces them); GPTQ and AWQ choose codes with calibration.
    public var isRoundToNearest: Bool { scheme != .gptq && scheme != .awq }

    var rowLength: Int { shape[1] }

    /// Decodes logical rows `rows` to Float32 into `values` (rows.count × in). With `steps`, also
    /// writes each element's quantization step (the width of the rounding cell around its value).
    public func decode(rows: Range<Int>, of model: Model, into values: UnsafeMutablePointer<Float>,
                       steps: UnsafeMutablePointer<Float>? = nil) {
        let parts = Parts(layout: self, model: model)
        switch scheme {
        case .gptq: decodeGPTQ(rows, parts, values, steps)
        case .awq: decodeAWQ(rows, parts, values, steps)
        case .bitsandbytes4bit: decodeBnb4(rows, parts, values, steps)
        case .bitsandbytesInt8: decodeBnbInt8(rows, parts, values, steps)
        case .fp8Block: decodeFP8Block(rows, parts, values, steps)
        case .scaled: decodeScaled(rows, parts, values, steps)
        case .packQuantized: decodePackQuantized(rows, parts, values, steps)
        }
    }

    /// Re-rounds `reference` (rows.count × in Float32 values of a float model) with the stored
    /// scales and zero points, as the scheme's quantizer does, and counts the elements whose code
    /// equals the stored one. For GPTQ and AWQ this is plain rounding (their quantizers are not).
    ///
    /// A code counts as reproduced when it is the nearest, or when the reference lies within the
    /// precision of the stored scale (its dtype's half ulp) of the rounding boundary next to it:
    /// the libraries round with the scale before it was stored in F16/BF16. Where torch computes
    /// the quotient in the weights' narrow dtype (a BF16 weight over a BF16 scale), so does this.
    public func matchingCodes(rows: Range<Int>, of model: Model, reference: UnsafePointer<Float>,
                              referenceFormat: FloatFormat? = nil) -> Int {
        var parts = Parts(layout: self, model: model)
        parts.referenceFormat = referenceFormat
        switch scheme {
        case .gptq: return matchGPTQ(rows, parts, reference)
        case .awq: return matchAWQ(rows, parts, reference)
        case .bitsandbytes4bit: return matchBnb4(rows, parts, reference)
        case .bitsandbytesInt8: return matchBnbInt8(rows, parts, reference)
        case .fp8Block: return matchFP8Block(rows, parts, reference)
        case .scaled: return matchScaled(rows, parts, reference)
        case .packQuantized: return matchPackQuantized(rows, parts, reference)
        }
    }

    /// The stored tensors' data, by role.
    struct Parts {
        let tensors: [String: StoredValues]
        var referenceFormat: FloatFormat?
        init(layout: PackedLayout, model: Model) {
            var tensors = [String: StoredValues]()
            for (role, info) in layout.components { tensors[role] = StoredValues(model.data(of: info), info.type) }
            self.tensors = tensors
        }
        subscript(_ role: String) -> StoredValues { tensors[role]! }
        func optional(_ role: String) -> StoredValues? { tensors[role] }
    }
}

/// Element access to one stored component (little-endian, unaligned).
struct StoredValues {
    let raw: UnsafeRawBufferPointer
    let dtype: DType

    init(_ raw: UnsafeRawBufferPointer, _ type: TensorType) {
        self.raw = raw
        if case .dtype(let d) = type { dtype = d } else { dtype = .u8 }
    }

    var count: Int { raw.count * 8 / dtype.bits }

    func float(_ i: Int) -> Float {
        switch dtype {
        case .f32: Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .f16: pdg_fp16_to_f32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .bf16: pdg_bf16_to_f32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .f64: Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
        case .f8E4M3: FP8.e4m3Table[Int(raw[i])]
        case .f8E5M2: FP8.e5m2Table[Int(raw[i])]
        default: Float(int(i))
        }
    }

    func int(_ i: Int) -> Int {
        switch dtype {
        case .u8, .bool: Int(raw[i])
        case .i8: Int(Int8(bitPattern: raw[i]))
        case .i16: Int(Int16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
        case .u16: Int(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .i32: Int(Int32(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian))
        case .u32: Int(raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .i64, .u64: Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)
        default: Int(float(i))
        }
    }

    /// A 32-bit packed word.
    func word(_ i: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian }

    /// `bits` bits at packed index `k` of word `i`.
    func field(_ i: Int, _ k: Int, bits: Int) -> Int { Int((word(i) >> UInt32(bits * k)) & ((1 << UInt32(bits)) - 1)) }
}

/// Relative half-ulp of a float dtype (the precision a value stored in it has).
func storagePrecision(_ dtype: DType) -> Float {
    switch dtype {
    case .bf16: 0x1p-8
    case .f16: 0x1p-11
    default: 0x1p-24
    }
}

/// True when `stored` is what rounding `t` to an integer code in lo...hi gives, up to a
/// boundary band of relative width `precision` (the uncertainty of a stored scale).
@inline(__always) func uniformCodeMatches(_ t: Float, stored: Int, low: Float, high: Float, precision: Float) -> Bool {
    let nearest = Int(min(max(roundEven(t), low), high))
    if nearest == stored { return true }
    guard Float(stored) >= low, Float(stored) <= high else { return false }
    let clamped = min(max(t, low), high)
    return abs(clamped - Float(stored)) <= 0.5 + 2 * abs(t) * precision + 1e-6
}

/// `x` rounded to `format` (for quotients torch computes in a narrow dtype).
@inline(__always) func roundedTo(_ x: Float, _ format: FloatFormat?) -> Float {
    switch format {
    case .bf16: pdg_bf16_to_f32(pdg_f32_to_bf16(x))
    case .f16: pdg_fp16_to_f32(pdg_f32_to_fp16(x))
    default: x
    }
}

/// Round half to even, as torch.round.
@inline(__always) func roundEven(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }
