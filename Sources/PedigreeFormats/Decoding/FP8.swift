/// The 8-bit float formats of safetensors (`F8_E4M3`, torch `float8_e4m3fn`; `F8_E5M2`), decoded
/// through 256-entry tables. Every FP8 value is exact in Float32, so decoding is bit-exact.
///
/// E4M3 (fn): bias 7, no infinities, S.1111.111 is NaN, largest finite 448. E5M2: bias 15, IEEE
/// rules (infinities and NaNs at exponent 31).
public enum FP8 {
    /// The value of every E4M3 byte.
    public static let e4m3Table: [Float] = (0 ..< 256).map { e4m3Value(UInt8($0)) }
    /// The value of every E5M2 byte.
    public static let e5m2Table: [Float] = (0 ..< 256).map { e5m2Value(UInt8($0)) }

    static func e4m3Value(_ byte: UInt8) -> Float {
        let sign: Float = byte & 0x80 != 0 ? -1 : 1
        let exponent = Int((byte >> 3) & 0xF), mantissa = Float(byte & 0x7)
        if exponent == 15 && byte & 0x7 == 7 { return .nan }
        let magnitude = exponent == 0 ? mantissa / 8 * Float(sign: .plus, exponent: -6, significand: 1)
                                      : (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
        return sign * magnitude
    }

    static func e5m2Value(_ byte: UInt8) -> Float {
        let sign: Float = byte & 0x80 != 0 ? -1 : 1
        let exponent = Int((byte >> 2) & 0x1F), mantissa = Float(byte & 0x3)
        if exponent == 31 { return byte & 0x3 == 0 ? sign * .infinity : .nan }
        let magnitude = exponent == 0 ? mantissa / 4 * Float(sign: .plus, exponent: -14, significand: 1)
                                      : (1 + mantissa / 4) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        return sign * magnitude
    }

    /// The E4M3 byte nearest to `x` (ties to the even code), saturating at ±448 as the quantizers
    /// clamp before they cast. NaN gives the NaN code.
    public static func e4m3(nearest x: Float) -> UInt8 {
        if x.isNaN { return 0x7F }
        let sign: UInt8 = x.sign == .minus ? 0x80 : 0
        let a = abs(x)
        if a >= 448 { return sign | 0x7E }
        // Largest code whose value is <= a (codes 0...126 are increasing for the positive half).
        var low = 0, high = 126
        while low < high {
            let mid = (low + high + 1) / 2
            if e4m3Table[mid] <= a { low = mid } else { high = mid - 1 }
        }
        var code = low
        if code < 126 {
            let below = a - e4m3Table[code], above = e4m3Table[code + 1] - a
            if above < below || (above == below && code & 1 == 1) { code += 1 }
        }
        return sign | UInt8(code)
    }

    /// The spacing of the E4M3 grid at `byte` (the width of the rounding cell around its value).
    public static func e4m3Spacing(_ byte: UInt8) -> Float {
        let exponent = Int((byte >> 3) & 0xF)
        return Float(sign: .plus, exponent: max(exponent, 1) - 10, significand: 1)
    }

    static let decodeE4M3: TensorDecoder.Kernel = { src, dst, n in
        guard let src, let dst else { return }
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        FP8.e4m3Table.withUnsafeBufferPointer { table in
            for i in 0 ..< n { dst[i] = table[Int(bytes[i])] }
        }
    }

    static let decodeE5M2: TensorDecoder.Kernel = { src, dst, n in
        guard let src, let dst else { return }
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        FP8.e5m2Table.withUnsafeBufferPointer { table in
            for i in 0 ..< n { dst[i] = table[Int(bytes[i])] }
        }
    }
}
