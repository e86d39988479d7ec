/// One row of ggml's type table: what a tensor type id means in a GGUF file.
///
/// This table is the only place that knows ggml's block sizes; readers, decoders, judges and
/// reports read it. Removed ids keep their rows with `blockElements == 0` so numbers never shift.
/// Source: ggml-org/ggml `src/ggml.c` (`type_traits`), `ggml-common.h`; formats.md section 3.5.
public struct GGMLType: Hashable, Sendable, CustomStringConvertible {
    /// The type id stored in GGUF tensor infos.
    public let id: UInt32
    /// ggml's name (`Q4_K`, `F16`, ...).
    public let name: String
    /// Elements per block (1 for plain types, 0 for removed ids).
    public let blockElements: Int
    /// Bytes per block (0 for removed ids).
    public let bytesPerBlock: Int
    /// True for the intermediate types (Q8_1, Q8_K) that writers do not put in model files.
    public let isIntermediate: Bool

    public var description: String { name }

    /// False for ids ggml retired; tensors of those types cannot be sized or decoded.
    public var isDefined: Bool { blockElements > 0 }

    /// True for block-quantized types (everything but the plain float and integer types).
    public var isQuantized: Bool { blockElements > 1 }

    /// Bytes of `elements` values, or nil when `elements` is not a whole number of blocks or overflows.
    public func byteCount(elements: Int) -> Int? {
        guard isDefined, elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    /// The row of `id`, or nil for ids past the table (GGML_TYPE_COUNT and above).
    public static func withID(_ id: UInt32) -> GGMLType? {
        Int(id) < table.count ? table[Int(id)] : nil
    }

    /// The row named `name` (defined types only).
    public static func named(_ name: String) -> GGMLType? {
        table.first { $0.name == name && $0.isDefined }
    }

    private init(_ id: UInt32, _ name: String, _ blockElements: Int, _ bytesPerBlock: Int, intermediate: Bool = false) {
        self.id = id
        self.name = name
        self.blockElements = blockElements
        self.bytesPerBlock = bytesPerBlock
        self.isIntermediate = intermediate
    }

    /// Every id up to GGML_TYPE_COUNT - 1, indexed by id.
    public static let table: [GGMLType] = [
        GGMLType(0, "F32", 1, 4),
        GGMLType(1, "F16", 1, 2),
        GGMLType(2, "Q4_0", 32, 18),
        GGMLType(3, "Q4_1", 32, 20),
        GGMLType(4, "Q4_2", 0, 0),            // removed
        GGMLType(5, "Q4_3", 0, 0),            // removed
        GGMLType(6, "Q5_0", 32, 22),
        GGMLType(7, "Q5_1", 32, 24),
        GGMLType(8, "Q8_0", 32, 34),
        GGMLType(9, "Q8_1", 32, 36, intermediate: true),   // ggml's block is 36 bytes (gguf-py says 40)
        GGMLType(10, "Q2_K", 256, 84),
        GGMLType(11, "Q3_K", 256, 110),
        GGMLType(12, "Q4_K", 256, 144),
        GGMLType(13, "Q5_K", 256, 176),
        GGMLType(14, "Q6_K", 256, 210),
        GGMLType(15, "Q8_K", 256, 292, intermediate: true),
        GGMLType(16, "IQ2_XXS", 256, 66),
        GGMLType(17, "IQ2_XS", 256, 74),
        GGMLType(18, "IQ3_XXS", 256, 98),
        GGMLType(19, "IQ1_S", 256, 50),
        GGMLType(20, "IQ4_NL", 32, 18),
        GGMLType(21, "IQ3_S", 256, 110),
        GGMLType(22, "IQ2_S", 256, 82),
        GGMLType(23, "IQ4_XS", 256, 136),
        GGMLType(24, "I8", 1, 1),
        GGMLType(25, "I16", 1, 2),
        GGMLType(26, "I32", 1, 4),
        GGMLType(27, "I64", 1, 8),
        GGMLType(28, "F64", 1, 8),
        GGMLType(29, "IQ1_M", 256, 56),
        GGMLType(30, "BF16", 1, 2),
        GGMLType(31, "Q4_0_4_4", 0, 0),       // removed: Q4_0 with runtime repacking
        GGMLType(32, "Q4_0_4_8", 0, 0),       // removed
        GGMLType(33, "Q4_0_8_8", 0, 0),       // removed
        GGMLType(34, "TQ1_0", 256, 54),
        GGMLType(35, "TQ2_0", 256, 66),
        GGMLType(36, "IQ4_NL_4_4", 0, 0),     // removed
        GGMLType(37, "IQ4_NL_4_8", 0, 0),     // removed
        GGMLType(38, "IQ4_NL_8_8", 0, 0),     // removed
        GGMLType(39, "MXFP4", 32, 17),
        GGMLType(40, "NVFP4", 64, 36),
        GGMLType(41, "Q1_0", 128, 18),
        GGMLType(42, "Q2_0", 64, 18),
    ]

    public static let f32 = table[0], f16 = table[1], q4_0 = table[2], q8_0 = table[8], bf16 = table[30]
}
