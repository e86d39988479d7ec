import Foundation
import Testing

/// The JSON outputs against the JSON Schemas in Schemas/: every key the tools print is
/// documented there (so a new field cannot land without its schema), every required key is
/// printed, enums and constants hold.
@Suite struct SchemaTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas")

    static func schema(_ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: schemas.appendingPathComponent(name))) as? [String: Any])
    }

    /// A small validator for the keywords the schemas use: $ref, type, required, properties,
    /// additionalProperties, items, enum, const. Returns the problems found, with their JSON paths.
    static func problems(_ value: Any, _ node: [String: Any], root: [String: Any], at path: String = "$") -> [String] {
        var node = node
        if let ref = node["$ref"] as? String, ref.hasPrefix("#/$defs/"),
           let resolved = (root["$defs"] as? [String: Any])?[String(ref.dropFirst(8))] as? [String: Any] {
            node = resolved
        }
        var found = [String]()
        if let constant = node["const"], "\(constant)" != "\(value)" { found.append("\(path): \(value) is not \(constant)") }
        if let options = node["enum"] as? [Any] {
            let allowed = options.map { $0 is NSNull ? "null" : "\($0)" }
            let text = value is NSNull ? "null" : "\(value)"
            if !allowed.contains(text) { found.append("\(path): \(text) not in \(allowed)") }
        }
        if let object = value as? [String: Any] {
            for key in (node["required"] as? [String]) ?? [] where object[key] == nil { found.append("\(path): missing \(key)") }
            let properties = node["properties"] as? [String: Any]
            let additional = node["additionalProperties"] as? [String: Any]
            for (key, member) in object {
                if let sub = properties?[key] as? [String: Any] {
                    found += problems(member, sub, root: root, at: "\(path).\(key)")
                } else if let additional {
                    found += problems(member, additional, root: root, at: "\(path).\(key)")
                } else if properties != nil {
                    found.append("\(path): \(key) is not in the schema")
                }
            }
        }
        if let array = value as? [Any], let items = node["items"] as? [String: Any] {
            for (i, element) in array.enumerated() { found += problems(element, items, root: root, at: "\(path)[\(i)]") }
        }
        return found
    }

    static func output(_ arguments: [String]) throws -> Any {
        let result = try CommandRunner.pedigree(arguments + ["--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
    }

    @Test(arguments: [["base", "gguf/base-Q4_0"], ["base", "other_real_paraphrase_minilm_l3"], ["llama/base", "llama/finetune"],
                      ["base", "llama/base"], ["base_fp16", "sharded"], ["base", "unrelated_random"], ["base", "permuted_mlp"]])
    func compareOutputFollowsItsSchema(_ pair: [String]) throws {
        let schema = try Self.schema("compare.schema.json")
        let json = try Self.output(["compare", SharedFixtures.fixture(pair[0]), SharedFixtures.fixture(pair[1])])
        let found = Self.problems(json, schema, root: schema)
        #expect(found.isEmpty, "\(found.prefix(10))")
    }

    @Test(arguments: ["real_gguf/gemma-3-270m-Q4_K_M-excerpt", "lora_adapter", "sharded", "malformed/gguf/tensor_type_200.gguf",
                      "malformed/safetensors/metadata_number.safetensors"])
    func inspectOutputFollowsItsSchema(_ fixture: String) throws {
        let schema = try Self.schema("inspect.schema.json")
        let json = try Self.output(["inspect", SharedFixtures.fixture(fixture)])
        let found = Self.problems(json, schema, root: schema)
        #expect(found.isEmpty, "\(found.prefix(10))")
    }

    @Test func validatorCatchesAnUndocumentedKey() throws {
        let schema = try Self.schema("compare.schema.json")
        #expect(!Self.problems(["schema": "pedigree.compare/1", "surprise": 1], schema, root: schema).isEmpty)
    }
}
