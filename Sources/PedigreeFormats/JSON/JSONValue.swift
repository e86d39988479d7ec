/// A parsed JSON value that keeps what a strict reader needs: key order, duplicate keys, and the
/// exact text of numbers (offsets above 2^53 must not pass through a Double).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    /// An integer value that fits Int (no fraction, no exponent).
    public var intValue: Int? { numberValue?.int }
    public var doubleValue: Double? { numberValue?.double }

    /// Member `key` of an object (the last one when the key repeats), nil otherwise.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// A compact rendering for reports (strings unquoted, lists joined with ", ").
    public var displayText: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n.text
        case .string(let s): s
        case .array(let a): a.map(\.displayText).joined(separator: ", ")
        case .object(let o): "{" + o.members.map { "\($0.key): \($0.value.displayText)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A JSON number as written.
public struct JSONNumber: Sendable, Equatable {
    /// The literal text, e.g. `"18446744073709551615"`, `"-1.5e3"`.
    public let text: String
    public init(text: String) { self.text = text }

    /// The value when it is a non-negative integer literal that fits UInt64.
    public var uint64: UInt64? { UInt64(text) }
    /// The value when it is an integer literal that fits Int.
    public var int: Int? { Int(text) }
    public var double: Double { Double(text) ?? .nan }
    /// True when the literal has no fraction and no exponent.
    public var isIntegerLiteral: Bool { !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) }
}

/// A JSON object with its members in file order, duplicates kept.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(members: [(key: String, value: JSONValue)] = []) { self.members = members }

    /// The last member named `key` (as most JSON libraries resolve duplicates).
    public subscript(key: String) -> JSONValue? {
        members.last(where: { $0.key == key })?.value
    }

    public var keys: [String] { members.map(\.key) }

    /// The first key that appears more than once, if any.
    public var firstDuplicateKey: String? {
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted { return member.key }
        return nil
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
