import CPedigreeKernels

/// Decodes tensor data of any supported type to Float32.
///
/// The one entry point engines use; the per-type work lives in the C kernels
/// (`CPedigreeKernels`, `pdg_dequant.h`), each fast kernel with a scalar reference twin used by the
/// tests. Which types decode is decided by one table, `kernels`: adding a type is one row there.
public enum TensorDecoder {
    /// A C row decoder: `n` elements from `src` (unaligned, little-endian) to `dst`.
    typealias Kernel = @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<Float>?, Int) -> Void

    /// A table entry (C function pointers are immutable, so sharing them is safe).
    struct Entry: @unchecked Sendable {
        let kernel: Kernel
    }

    /// The dispatch table: every type `decode` handles, keyed by type.
    static let kernels: [TensorType: Entry] = {
        var table: [TensorType: Entry] = [
            .dtype(.f32): Entry(kernel: pdg_dequant_f32),
            .dtype(.f16): Entry(kernel: pdg_dequant_f16),
            .dtype(.bf16): Entry(kernel: pdg_dequant_bf16),
            .dtype(.f64): Entry(kernel: pdg_dequant_f64),
            .dtype(.f8E4M3): Entry(kernel: FP8.decodeE4M3),
            .dtype(.f8E5M2): Entry(kernel: FP8.decodeE5M2),
        ]
        let ggml: [(String, Kernel)] = [
            ("F32", pdg_dequant_f32),
            ("F16", pdg_dequant_f16),
            ("BF16", pdg_dequant_bf16),
            ("F64", pdg_dequant_f64),
            ("Q8_0", pdg_dequant_q8_0),
            ("Q4_0", pdg_dequant_q4_0),
            ("I8", pdg_dequant_i8), ("I16", pdg_dequant_i16), ("I32", pdg_dequant_i32), ("I64", pdg_dequant_i64),
            ("Q4_1", pdg_dequant_q4_1), ("Q5_0", pdg_dequant_q5_0), ("Q5_1", pdg_dequant_q5_1), ("Q8_1", pdg_dequant_q8_1),
            ("Q2_K", pdg_dequant_q2_k), ("Q3_K", pdg_dequant_q3_k), ("Q4_K", pdg_dequant_q4_k),
            ("Q5_K", pdg_dequant_q5_k), ("Q6_K", pdg_dequant_q6_k), ("Q8_K", pdg_dequant_q8_k),
            ("IQ2_XXS", pdg_dequant_iq2_xxs), ("IQ2_XS", pdg_dequant_iq2_xs), ("IQ2_S", pdg_dequant_iq2_s),
            ("IQ3_XXS", pdg_dequant_iq3_xxs), ("IQ3_S", pdg_dequant_iq3_s), ("IQ1_S", pdg_dequant_iq1_s),
            ("IQ1_M", pdg_dequant_iq1_m), ("IQ4_NL", pdg_dequant_iq4_nl), ("IQ4_XS", pdg_dequant_iq4_xs),
            ("TQ1_0", pdg_dequant_tq1_0), ("TQ2_0", pdg_dequant_tq2_0),
            ("MXFP4", pdg_dequant_mxfp4), ("NVFP4", pdg_dequant_nvfp4), ("Q1_0", pdg_dequant_q1_0), ("Q2_0", pdg_dequant_q2_0),
        ]
        for (name, kernel) in ggml {
            guard let type = GGMLType.named(name) else { preconditionFailure("ggml type \(name) is not in GGMLType.table") }
            table[.ggml(type)] = Entry(kernel: kernel)
        }
        return table
    }()

    /// Bytes taken by `elements` values of `type`, or nil when the type cannot be sized
    /// (unknown id, removed id, sub-byte element counts that do not end on a byte, partial blocks).
    public static func byteCount(of type: TensorType, elements: Int) -> Int? {
        switch type {
        case .dtype(let d):
            let (bits, overflow) = elements.multipliedReportingOverflow(by: d.bits)
            return overflow || bits % 8 != 0 ? nil : bits / 8
        case .ggml(let g):
            return g.byteCount(elements: elements)
        case .unknownGGML, .packed:
            return nil
        }
    }

    /// True when `decode` handles `type`.
    public static func canDecode(_ type: TensorType) -> Bool {
        if case .packed = type { return true }   // decoded from its components by `Model.decodeRows`
        return kernels[type] != nil
    }

    /// Decodes `elementCount` values from `source` into `output`. Returns false when the type
    /// has no decoder. `source` must hold exactly `byteCount(of:elements:)` bytes, and
    /// `elementCount` must be a whole number of blocks (a precondition: the reader checked rows).
    /// Results are bit-identical to the scalar twins of the kernels on every CPU.
    public static func decode(_ type: TensorType, from source: UnsafeRawBufferPointer, elementCount: Int,
                              into output: UnsafeMutablePointer<Float>) -> Bool {
        guard let entry = kernels[type] else { return false }
        guard let bytes = byteCount(of: type, elements: elementCount) else {
            preconditionFailure("\(elementCount) elements are not a whole number of \(type.name) blocks")
        }
        precondition(source.count >= bytes, "the source holds \(source.count) bytes; \(bytes) are needed")
        if elementCount == 0 { return true }
        entry.kernel(source.baseAddress, output, elementCount)
        return true
    }
}
