/// A GGUF metadata value (formats.md section 3.3). Arrays may nest; the reader bounds the depth.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String)
    /// `elementType` is the GGUF type id of the elements (9 for nested arrays).
    case array(elementType: UInt32, [GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// The value as an integer, for any integer or bool case that fits Int.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(exactly: v)
        case .bool(let v): v ? 1 : 0
        default: nil
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    /// The GGUF type name (`UINT32`, `STRING`, `ARRAY`...).
    public var typeName: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }

    /// A short rendering for reports: scalars as text, arrays as `[n items]` beyond `limit` items.
    public func displayText(limit: Int = 8) -> String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .bool(let v): v ? "true" : "false"
        case .string(let s): s
        case .array(_, let items):
            items.count > limit ? "[\(items.count) items]" : "[" + items.map { $0.displayText(limit: limit) }.joined(separator: ", ") + "]"
        }
    }
}

/// One key/value pair of a GGUF header, in file order.
public struct GGUFEntry: Sendable, Equatable {
    public let key: String
    public let value: GGUFValue
    public init(key: String, value: GGUFValue) { self.key = key; self.value = value }
}
