import CPedigreeKernels
import Foundation
import PedigreeFormats

/// A PEFT LoRA adapter folder read against formats.md section 5: `adapter_config.json` fields,
/// and the `lora_A` / `lora_B` tensors grouped by the module they adapt.
public struct PEFTAdapter: Sendable {
    /// One adapted module: its path in the base model and its two factors.
    public struct Module: Sendable {
        /// The module's path without PEFT's prefix, e.g. `encoder.layer.0.attention.self.query`.
        public let path: String
        public var a: TensorInfo?
        public var b: TensorInfo?
        /// True for `lora_embedding_A/B` (ΔW = (B·A)ᵀ · scale).
        public var embedding: Bool
    }

    public let peftType: String?
    public let baseModel: String?
    public let r: Int
    public let loraAlpha: Double
    public let useRslora: Bool
    public let fanInFanOut: Bool
    public let useDora: Bool
    public let targetModules: [String]
    /// Regex keys of `rank_pattern` / `alpha_pattern`, in file order.
    public let rankPattern: [(key: String, value: Int)]
    public let alphaPattern: [(key: String, value: Double)]
    public var modules: [Module]
    /// Keys that are not LoRA factors (modules_to_save weights, DoRA magnitudes, biases).
    public var otherKeys: [String]

    /// Reads the adapter's config and groups its tensors.
    public init(_ model: Model) {
        let c = model.adapterConfig
        peftType = c?["peft_type"]?.stringValue
        baseModel = c?["base_model_name_or_path"]?.stringValue
        r = c?["r"]?.intValue ?? 8
        loraAlpha = c?["lora_alpha"]?.doubleValue ?? Double(r)
        useRslora = c?["use_rslora"]?.boolValue ?? false
        fanInFanOut = c?["fan_in_fan_out"]?.boolValue ?? false
        useDora = c?["use_dora"]?.boolValue ?? false
        if let list = c?["target_modules"]?.arrayValue {
            targetModules = list.compactMap(\.stringValue)
        } else if let regex = c?["target_modules"]?.stringValue {
            targetModules = [regex]
        } else {
            targetModules = []
        }
        rankPattern = (c?["rank_pattern"]?.objectValue?.members ?? []).compactMap { m in m.value.intValue.map { (m.key, $0) } }
        alphaPattern = (c?["alpha_pattern"]?.objectValue?.members ?? []).compactMap { m in m.value.numberValue.map { (m.key, $0.double) } }
        var modules = [Module]()
        var index = [String: Int]()
        var other = [String]()
        for t in model.tensors {
            guard let (path, factor, embedding) = Self.parse(t.name) else { other.append(t.name); continue }
            let i = index[path] ?? {
                modules.append(Module(path: path, a: nil, b: nil, embedding: embedding))
                index[path] = modules.count - 1
                return modules.count - 1
            }()
            if factor == "A" { modules[i].a = t } else { modules[i].b = t }
        }
        self.modules = modules
        otherKeys = other
    }

    /// (module path, "A" or "B", embedding) of a LoRA factor key, or nil for any other key.
    /// Accepts `…lora_A.weight`, `…lora_A.<adapter>.weight`, `…lora_embedding_A[.<adapter>]`.
    static func parse(_ key: String) -> (String, String, Bool)? {
        let parts = key.split(separator: ".").map(String.init)
        guard let i = parts.lastIndex(where: { ["lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B"].contains($0) }), i > 0 else { return nil }
        let tail = parts[(i + 1)...]
        let embedding = parts[i].hasPrefix("lora_embedding")
        if embedding { guard tail.count <= 1 else { return nil } } else {
            guard tail.last == "weight", tail.count <= 2 else { return nil }
        }
        var path = parts[..<i].joined(separator: ".")
        for prefix in ["base_model.model.", "base_model."] where path.hasPrefix(prefix) {
            path.removeFirst(prefix.count)
            break
        }
        return (path, parts[i].hasSuffix("A") ? "A" : "B", embedding)
    }

    /// Rank, alpha and scaling of `module` (rank_pattern / alpha_pattern keys are regexes
    /// matched as `(.*\.)?(KEY)$`, the first matching key in file order wins).
    public func scaling(for module: String) -> (rank: Int, alpha: Double, scaling: Double) {
        let rank = rankPattern.first { Self.matches($0.key, module) }?.value ?? r
        let alpha = alphaPattern.first { Self.matches($0.key, module) }?.value ?? loraAlpha
        let scale = rank > 0 ? (useRslora ? alpha / Double(rank).squareRoot() : alpha / Double(rank)) : 0
        return (rank, alpha, scale)
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(.*\\.)?(" + pattern + ")$") else { return false }
        return regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    /// The pairing key a module's base weight has (NameMapping.pairingKey of `<path>.weight`).
    static func baseKey(_ path: String) -> String {
        NameMapping.pairingKey(path + ".weight", format: .safetensors, family: nil)
    }

    /// ΔW = scale · (B·A), transposed for `fan_in_fan_out` and for embeddings, in the base weight's layout.
    static func delta(a: FloatMatrix, b: FloatMatrix, scale: Float, transpose: Bool) -> FloatMatrix {
        var product = FloatMatrix(rows: b.rows, columns: a.columns)
        b.values.withUnsafeBufferPointer { pb in
            a.values.withUnsafeBufferPointer { pa in
                product.values.withUnsafeMutableBufferPointer { po in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b.rows), Int32(a.columns), Int32(a.rows), scale,
                                pb.baseAddress, Int32(b.columns), pa.baseAddress, Int32(a.columns), 0, po.baseAddress, Int32(a.columns))
                }
            }
        }
        return transpose ? product.transposed : product
    }
}
