import PedigreeFormats

/// The quantization signature of a GGUF file, from its header alone: which ggml types its weight
/// matrices use, the llama.cpp file type they add up to, and whether `general.file_type` agrees.
///
/// llama.cpp's quantizer (formats.md 3.7.2) gives most matrices the file type's base type, some
/// (output, attn_v, ffn_down) more bits, and rows whose width is not a multiple of the base type's
/// block a fallback type (Q4_K -> Q5_0, Q6_K -> Q8_0, ...; then F16 when not a multiple of 32).
/// Such fallbacks are consistent with the declared type, not a mismatch.
public struct GGUFQuantizationSignature: Codable, Sendable, Equatable {
    /// `general.file_type` as stored, and its llama.cpp name (`MOSTLY_Q4_K_M`).
    public var declaredFileType: Int?
    public var declaredFileTypeName: String?
    /// The file type the weight matrices' types add up to (`Q4_K_M`), when they point to one.
    public var inferredFileType: String?
    /// Weight matrices (2-D `*.weight` tensors) per storage type.
    public var matrixTypes: [String: Int]
    /// Matrices stored in a fallback type because their rows do not fit the base type's blocks.
    public var fallbackMatrices: Int
    /// True when every matrix type is one llama.cpp gives under the declared file type; nil when
    /// the file declares none.
    public var consistent: Bool?
    /// Why the types and the declared file type disagree (empty when they agree).
    public var mismatches: [String]

    /// The signature of a GGUF model; nil for other formats.
    public init?(_ model: Model) {
        guard model.format == .gguf else { return nil }
        self.init(declaredFileType: model.metadata("general.file_type")?.intValue, tensors: model.tensors)
    }

    /// The signature of `tensors` under a declared `general.file_type` (nil: none declared).
    public init(declaredFileType: Int?, tensors: [TensorInfo]) {
        self.declaredFileType = declaredFileType
        declaredFileTypeName = declaredFileType.flatMap { Self.fileTypeNames[$0] }
        let matrices = tensors.filter { $0.shape.count >= 2 && $0.name.hasSuffix("weight") }
        var counts = [String: Int]()
        for t in matrices { counts[t.type.name, default: 0] += 1 }
        matrixTypes = counts
        mismatches = []
        fallbackMatrices = 0
        inferredFileType = Self.infer(matrices)

        guard let declared = declaredFileType else { consistent = nil; return }
        guard let name = declaredFileTypeName, let base = Self.baseType[name] else {
            consistent = nil
            mismatches.append("general.file_type \(declared) is not a llama.cpp file type this build knows")
            return
        }
        let allowed = Self.allowedTypes(fileType: name, base: base)
        for t in matrices {
            let type = t.type.name
            if allowed.contains(type) { continue }
            // A fallback type is consistent when the rows do not fit the block of the type it replaces.
            if let replaced = allowed.first(where: { Self.fallback[$0] == type || Self.fallback[Self.fallback[$0] ?? ""] == type }),
               let block = GGMLType.named(replaced)?.blockElements, t.rowLength % block != 0 {
                fallbackMatrices += 1
                continue
            }
            if ["F32", "F16", "BF16"].contains(type) { continue }   // kept unquantized (rows not a multiple of 32, or by rule)
            mismatches.append("\(t.name) is \(type), which llama.cpp does not write in a \(name) file")
        }
        if matrices.contains(where: { $0.type.name == base }) == false, base != "F32",
           !matrices.contains(where: { Self.fallback[base] == $0.type.name && $0.rowLength % (GGMLType.named(base)?.blockElements ?? 1) != 0 }) {
            mismatches.append("no matrix has \(base), the base type of \(name)")
        }
        consistent = mismatches.isEmpty
    }

    /// The most common type among matrices whose rows fit 256-element blocks (the others may be
    /// fallbacks), named as the llama.cpp file type it is the base of.
    static func infer(_ matrices: [TensorInfo]) -> String? {
        let fitting = matrices.filter { $0.rowLength % 256 == 0 }
        let pool = fitting.isEmpty ? matrices : fitting
        var counts = [String: Int]()
        for t in pool { counts[t.type.name, default: 0] += 1 }
        guard let top = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })?.key else { return nil }
        let types = Set(pool.map(\.type.name))
        switch top {
        case "F32": return "F32"
        case "F16": return "F16"
        case "BF16": return "BF16"
        case "Q4_K": return types.contains("Q6_K") && pool.contains { $0.type.name == "Q6_K" && !$0.name.hasPrefix("output") && !$0.name.hasPrefix("token_embd") } ? "Q4_K_M" : "Q4_K_S"
        case "Q5_K": return types.contains("Q6_K") && pool.contains { $0.type.name == "Q6_K" && !$0.name.hasPrefix("output") && !$0.name.hasPrefix("token_embd") } ? "Q5_K_M" : "Q5_K_S"
        case "Q3_K": return types.contains("Q5_K") ? "Q3_K_L" : (types.contains("Q4_K") ? "Q3_K_M" : "Q3_K_S")
        default: return top
        }
    }

    /// Types llama.cpp may give a matrix under `fileType`: its base, the types with more bits that
    /// the Q*_K_* mixes use for output, attn_v and ffn_down, and Q8_0 (Falcon, MoE rules).
    static func allowedTypes(fileType: String, base: String) -> Set<String> {
        var allowed: Set<String> = [base, "Q8_0"]
        switch base {
        case "Q2_K": allowed.formUnion(["Q3_K", "Q4_K", "Q5_K", "Q6_K"])
        case "Q3_K": allowed.formUnion(["Q4_K", "Q5_K", "Q6_K"])
        case "Q4_K": allowed.formUnion(["Q5_K", "Q6_K"])
        case "Q5_K": allowed.formUnion(["Q6_K"])
        case "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0": allowed.formUnion(["Q4_K", "Q5_K", "Q6_K"])
        case "F16", "BF16", "F32": allowed = [base]
        default:   // the IQ mixes use K-quants and other IQ types for the sensitive tensors
            allowed.formUnion(["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S",
                               "IQ3_XXS", "IQ3_S", "IQ4_NL", "IQ4_XS"])
        }
        if fileType == "MOSTLY_MXFP4_MOE" { allowed.formUnion(["MXFP4", "Q8_0"]) }
        return allowed
    }

    /// llama.cpp's `LLAMA_FTYPE_*` values (llama.h; gguf-py `LlamaFileType`).
    static let fileTypeNames: [Int: String] = [
        0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0",
        9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L",
        14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K",
        19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS",
        24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S",
        29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0",
        37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4", 40: "MOSTLY_Q1_0", 41: "MOSTLY_Q2_0",
    ]

    /// The default matrix type of each file type (`llama_ftype_get_default_type`).
    static let baseType: [String: String] = [
        "ALL_F32": "F32", "MOSTLY_F16": "F16", "MOSTLY_BF16": "BF16", "MOSTLY_Q4_0": "Q4_0", "MOSTLY_Q4_1": "Q4_1",
        "MOSTLY_Q5_0": "Q5_0", "MOSTLY_Q5_1": "Q5_1", "MOSTLY_Q8_0": "Q8_0", "MOSTLY_Q2_K": "Q2_K", "MOSTLY_Q2_K_S": "Q2_K",
        "MOSTLY_Q3_K_S": "Q3_K", "MOSTLY_Q3_K_M": "Q3_K", "MOSTLY_Q3_K_L": "Q3_K", "MOSTLY_Q4_K_S": "Q4_K",
        "MOSTLY_Q4_K_M": "Q4_K", "MOSTLY_Q5_K_S": "Q5_K", "MOSTLY_Q5_K_M": "Q5_K", "MOSTLY_Q6_K": "Q6_K",
        "MOSTLY_IQ2_XXS": "IQ2_XXS", "MOSTLY_IQ2_XS": "IQ2_XS", "MOSTLY_IQ2_S": "IQ2_XS", "MOSTLY_IQ2_M": "IQ2_S",
        "MOSTLY_IQ3_XS": "IQ3_S", "MOSTLY_IQ3_XXS": "IQ3_XXS", "MOSTLY_IQ3_S": "IQ3_S", "MOSTLY_IQ3_M": "IQ3_S",
        "MOSTLY_IQ1_S": "IQ1_S", "MOSTLY_IQ1_M": "IQ1_M", "MOSTLY_IQ4_NL": "IQ4_NL", "MOSTLY_IQ4_XS": "IQ4_XS",
        "MOSTLY_TQ1_0": "TQ1_0", "MOSTLY_TQ2_0": "TQ2_0", "MOSTLY_MXFP4_MOE": "MXFP4", "MOSTLY_NVFP4": "NVFP4",
        "MOSTLY_Q1_0": "Q1_0", "MOSTLY_Q2_0": "Q2_0",
    ]

    /// `tensor_type_fallback`: the type used when a row is not a multiple of the type's block.
    static let fallback: [String: String] = [
        "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0", "Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q2_0": "Q4_0",
        "TQ1_0": "Q4_0", "TQ2_0": "Q4_0", "IQ1_S": "IQ4_NL", "IQ1_M": "IQ4_NL", "IQ2_XXS": "IQ4_NL", "IQ2_XS": "IQ4_NL",
        "IQ2_S": "IQ4_NL", "IQ3_XXS": "IQ4_NL", "IQ3_S": "IQ4_NL", "IQ4_XS": "IQ4_NL", "Q5_0": "F16", "Q5_1": "F16",
        "Q8_0": "F16", "Q4_0": "F16", "IQ4_NL": "F16",
    ]

    /// Findings for `compare` and `inspect`: the declared type disagreeing with the tensors.
    public var findings: [Finding] {
        guard consistent == false else { return [] }
        let declared = declaredFileTypeName ?? declaredFileType.map(String.init) ?? "?"
        return [Finding(.warning, "file-type-mismatch",
                        "general.file_type says \(declared) but the tensors disagree: " + mismatches.prefix(3).joined(separator: "; ")
                            + (mismatches.count > 3 ? "; and \(mismatches.count - 3) more" : ""))]
    }
}
