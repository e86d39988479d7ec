import Foundation
import PedigreeEngine

/// Renders any result as JSON: sorted keys, unescaped slashes, two-space indentation, so the
/// same value always gives the same bytes (verdicts.md section 3).
public enum JSONRenderer {
    public static func render<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            let data = try encoder.encode(value)
            return String(decoding: data, as: UTF8.self) + "\n"
        } catch {
            preconditionFailure("results are always encodable: \(error)")
        }
    }
}
