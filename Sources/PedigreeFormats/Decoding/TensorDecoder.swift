import CPedigreeKernels

/// Decodes tensor data of any supported type to Float32.
///
/// The one entry point engines use; the per-type work lives in the C kernels
/// (`CPedigreeKernels`), each with a scalar reference twin used by the tests.
public enum TensorDecoder {
    /// Bytes taken by `elements` values of `type`, or nil when the type cannot be sized
    /// (unknown id, removed id, sub-byte element counts that do not end on a byte, partial blocks).
    public static func byteCount(of type: TensorType, elements: Int) -> Int? {
        switch type {
        case .dtype(let d):
            let (bits, overflow) = elements.multipliedReportingOverflow(by: d.bits)
            return overflow || bits % 8 != 0 ? nil : bits / 8
        case .ggml(let g):
            return g.byteCount(elements: elements)
        case .unknownGGML:
            return nil
        }
    }

    /// True when `decode` handles `type`.
    public static func canDecode(_ type: TensorType) -> Bool {
        switch type {
        case .dtype(let d): [.f32, .f16, .bf16, .f64].contains(d)
        case .ggml(let g): ["F32", "F16", "BF16", "F64"].contains(g.name)
        case .unknownGGML: false
        }
    }

    /// Decodes `elementCount` values from `source` into `output`. Returns false when the type
    /// has no decoder. `source` must hold exactly `byteCount(of:elements:)` bytes.
    public static func decode(_ type: TensorType, from source: UnsafeRawBufferPointer, elementCount: Int,
                              into output: UnsafeMutablePointer<Float>) -> Bool {
        guard let format = type.floatFormat, let base = source.baseAddress ?? (elementCount == 0 ? UnsafeRawPointer(bitPattern: 1) : nil) else {
            return false
        }
        switch format {
        case .f32:
            for i in 0 ..< elementCount { output[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .f64:
            for i in 0 ..< elementCount { output[i] = Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
        case .f16:
            for i in 0 ..< elementCount { output[i] = Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0 ..< elementCount { output[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        }
        return true
    }
}
