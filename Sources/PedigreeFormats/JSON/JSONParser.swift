/// Why a byte buffer is not one JSON value (RFC 8259), and where the parser stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One short phrase: `unexpected end of input`, `trailing characters`, `nesting deeper than 64`.
    public let reason: String
    /// Byte offset (from the start of the parsed buffer) of the first byte the parser refused.
    public let offset: Int

    public init(reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 JSON parser over bytes, written for hostile input.
///
/// Guarantees:
/// - Accepts exactly one JSON value, optionally surrounded by JSON whitespace (space, tab, LF,
///   CR). Anything else after the value, NUL included, fails with `trailing characters`.
/// - Strings must be valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF),
///   control characters below U+0020 must be escaped, and `\u` escapes must form valid scalars
///   (a high surrogate must be followed by a low one).
/// - Numbers follow the RFC grammar exactly (no leading `+`, no leading zeros, no `.5`, no
///   `NaN`) and keep their literal text, so 64-bit offsets never pass through a Double.
/// - Objects keep their members in file order, duplicates included.
/// - Arrays and objects nest at most `maxDepth` deep, so a hostile file cannot exhaust the stack.
/// - Memory grows only with values actually present in the buffer; no count read from the input
///   is used to reserve storage.
public enum JSONParser {
    /// The nesting bound used when none is given.
    public static let defaultMaxDepth = 64

    /// Parses `bytes` as one JSON value.
    /// - Parameters:
    ///   - bytes: the whole document.
    ///   - maxDepth: how many arrays/objects may be open at once (the top-level container counts 1).
    /// - Throws: `JSONParseError` with the reason and the byte offset of the first refused byte.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var scanner = _JSONScanner(bytes, maxDepth: maxDepth)
        scanner.skipWhitespace()
        let value = try scanner.parseValue(depth: 0)
        scanner.skipWhitespace()
        if scanner.position < scanner.count {
            throw JSONParseError(reason: "trailing characters", offset: scanner.position)
        }
        return value
    }

    /// Parses the UTF-8 bytes of `text` (a convenience for small documents and tests).
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, JSONParseError> = copy.withUTF8 { buffer in
            do throws(JSONParseError) {
                return .success(try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses a byte array (a convenience for files read whole).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { buffer in
            do throws(JSONParseError) {
                return .success(try parse(buffer, maxDepth: maxDepth))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The offset of the first byte of `bytes` that breaks UTF-8 well-formedness (Unicode 3.9
    /// table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or nil when valid.
    public static func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            if let length = _utf8SequenceLength(bytes, at: i) { i += length } else { return i }
        }
        return nil
    }
}

/// The length (2…4) of the valid multi-byte UTF-8 sequence starting at `i`, or nil.
@inline(__always)
func _utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
    let n = bytes.count
    let b0 = bytes[i]
    @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
        guard i + k < n else { return false }
        let b = bytes[i + k]
        return b >= lo && b <= hi
    }
    switch b0 {
    case 0xC2 ... 0xDF: return cont(1) ? 2 : nil
    case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
    case 0xE1 ... 0xEC, 0xEE ... 0xEF: return cont(1) && cont(2) ? 3 : nil
    case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
    case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
    case 0xF1 ... 0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
    case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
    default: return nil
    }
}

/// The byte scanner behind `JSONParser`. Internal: positions are trusted only inside this file.
struct _JSONScanner {
    let bytes: UnsafeRawBufferPointer
    let count: Int
    let maxDepth: Int
    var position = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.count = bytes.count
        self.maxDepth = maxDepth
    }

    @inline(__always) func peek() -> UInt8? { position < count ? bytes[position] : nil }

    @inline(__always) func fail(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset ?? position)
    }

    @inline(__always) func unexpected() -> JSONParseError {
        position < count ? fail("unexpected character") : fail("unexpected end of input")
    }

    mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let b = peek() else { throw fail("unexpected end of input") }
        switch b {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = position
        let length = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for k in 0 ..< length {
            guard position < count, bytes[position] == text[k] else {
                throw position < count ? fail("invalid literal", at: start) : fail("unexpected end of input")
            }
            position += 1
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONObject {
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
        position += 1 // {
        var object = JSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return object }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw position < count ? fail("expected a string key") : fail("unexpected end of input")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw position < count ? fail("expected ':'") : fail("unexpected end of input")
            }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            object.members.append((key: key, value: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return object
            case nil: throw fail("unexpected end of input")
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> [JSONValue] {
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
        position += 1 // [
        var array: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return array }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return array
            case nil: throw fail("unexpected end of input")
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = position
        @inline(__always) func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek() else { throw fail("unexpected end of input") }
        if first == UInt8(ascii: "0") {
            position += 1
            if isDigit(peek()) { throw fail("leading zero in number") }
        } else if isDigit(first) {
            while isDigit(peek()) { position += 1 }
        } else {
            throw fail("expected a digit")
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard isDigit(peek()) else { throw peek() == nil ? fail("unexpected end of input") : fail("expected a digit") }
            while isDigit(peek()) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard isDigit(peek()) else { throw peek() == nil ? fail("unexpected end of input") : fail("expected a digit") }
            while isDigit(peek()) { position += 1 }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start ..< position]), as: UTF8.self)
        return JSONNumber(text: text)
    }

    /// Reads four hex digits of a `\u` escape.
    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            guard let b = peek() else { throw fail("unexpected end of input") }
            let digit: UInt8
            switch b {
            case 0x30 ... 0x39: digit = b - 0x30
            case 0x41 ... 0x46: digit = b - 0x41 + 10
            case 0x61 ... 0x66: digit = b - 0x61 + 10
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    mutating func parseString() throws(JSONParseError) -> String {
        position += 1 // opening quote
        let start = position
        // Fast path: no escapes; the string is a slice of the input.
        while position < count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start ..< position]), as: UTF8.self)
                position += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in string") }
            if b < 0x80 { position += 1; continue }
            guard let length = _utf8SequenceLength(bytes, at: position) else { throw fail("invalid UTF-8 in string") }
            position += length
        }
        if position >= count { throw fail("unexpected end of input") }
        // Slow path: copy what was scanned, then decode escapes.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start ..< position]))
        while position < count {
            let b = bytes[position]
            switch b {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeStart = position
                position += 1
                guard let e = peek() else { throw fail("unexpected end of input") }
                position += 1
                switch e {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if scalar >= 0xD800 && scalar <= 0xDBFF {
                        guard position + 1 < count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in \\u escape", at: escapeStart)
                        }
                        position += 2
                        let low = try parseHex4()
                        guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("unpaired surrogate in \\u escape", at: escapeStart) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                        throw fail("unpaired surrogate in \\u escape", at: escapeStart)
                    }
                    // Valid scalar by construction.
                    scratch.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    throw fail("invalid escape", at: escapeStart)
                }
            default:
                if b < 0x20 { throw fail("control character in string") }
                if b < 0x80 { scratch.append(b); position += 1; continue }
                guard let length = _utf8SequenceLength(bytes, at: position) else { throw fail("invalid UTF-8 in string") }
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position ..< position + length]))
                position += length
            }
        }
        throw fail("unexpected end of input")
    }
}

/// Helpers that write JSON text the parser above reads back unchanged.
public enum JSONWriter {
    /// `text` as a JSON string literal, quotes included. Escapes `"`, `\` and every control
    /// character below U+0020 (as `\n`, `\t`, … or `\u00XX`); everything else, `/` and non-ASCII
    /// included, is written as UTF-8.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        appendEscaped(text, to: &out)
        out += "\""
        return out
    }

    /// Appends the escaped body of `text` (without quotes) to `out`.
    public static func appendEscaped(_ text: String, to out: inout String) {
        let hex: [Character] = Array("0123456789abcdef")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00"
                    out.append(hex[Int(scalar.value >> 4)])
                    out.append(hex[Int(scalar.value & 0xF)])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// A compact rendering of `value` (no whitespace; members in order, duplicates kept;
    /// numbers as their literal text).
    public static func render(_ value: JSONValue) -> String {
        var out = ""
        render(value, to: &out)
        return out
    }

    private static func render(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.text
        case .string(let s): out += quoted(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                render(item, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, member) in object.members.enumerated() {
                if i > 0 { out += "," }
                out += quoted(member.key)
                out += ":"
                render(member.value, to: &out)
            }
            out += "}"
        }
    }
}
