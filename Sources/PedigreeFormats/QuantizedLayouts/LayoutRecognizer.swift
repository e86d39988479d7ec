/// What a model's quantized layouts are, for reports (one entry per scheme and parameter set).
public struct QuantizedLayoutSummary: Codable, Sendable, Equatable {
    /// `gptq`, `awq`, `bitsandbytes-4bit`, `bitsandbytes-int8`, `fp8-block`, `scaled`, `pack-quantized`.
    public var scheme: String
    public var quantMethod: String
    /// The logical type name of its tensors (`GPTQ-INT4`, `BNB-NF4`, ...).
    public var type: String
    public var bits: Int
    /// What one scale covers: `tensor`, `channel`, `group` or `block`.
    public var granularity: String
    public var groupSize: Int?
    public var blockShape: [Int]?
    public var symmetric: Bool
    /// `int`, `nf4`, `fp4`, `e4m3`, `e5m2`.
    public var codes: String
    /// Logical tensors stored this way, and the stored tensors behind them.
    public var tensors: Int
    public var components: Int
}

/// Recognises quantized safetensors layouts (formats.md sections 6 and 8) from tensor names,
/// dtypes, shapes and `config.json` `quantization_config`, and replaces each group of stored
/// tensors by one logical `.packed` tensor `<p>.weight` [out, in]. Every shape relation and index
/// the decoders rely on is checked here; a group that fails stays as it is, with a finding.
enum LayoutRecognizer {
    struct Result {
        var tensors: [TensorInfo]
        var summaries: [QuantizedLayoutSummary]
        var findings: [ReadFinding]
    }

    static func recognise(_ tensors: [TensorInfo], config: JSONValue?, files: [MappedFile]) -> Result {
        var byName = [String: TensorInfo]()
        for t in tensors where byName[t.name] == nil { byName[t.name] = t }
        let context = Context(byName: byName, files: files, config: config?["quantization_config"])
        var logicalByMain = [String: TensorInfo]()
        var consumed = Set<String>()
        var findings = [ReadFinding]()
        for t in tensors where !consumed.contains(t.name) {
            let attempt: Attempt?
            do throws(LayoutError) { attempt = try context.layout(mainCandidate: t) } catch {
                findings.append(ReadFinding(code: "quantized-layout-invalid", message: error.message, tensor: t.name))
                continue
            }
            guard let attempt else { continue }
            let main = attempt.layout.components[attempt.mainRole]!
            let logical = TensorInfo(name: attempt.name, shape: attempt.layout.shape, type: .packed(attempt.layout),
                                     fileIndex: main.fileIndex, byteOffset: main.byteOffset, byteCount: main.byteCount)
            if byName[attempt.name] != nil && attempt.layout.components.values.allSatisfy({ $0.name != attempt.name }) {
                findings.append(ReadFinding(code: "quantized-layout-invalid",
                                            message: "\(attempt.name) is stored both as a plain tensor and as a quantized layout", tensor: attempt.name))
                continue
            }
            logicalByMain[main.name] = logical
            for c in attempt.layout.components.values { consumed.insert(c.name) }
        }
        guard !logicalByMain.isEmpty else { return Result(tensors: tensors, summaries: [], findings: findings) }
        var result = [TensorInfo]()
        var groups = [String: (summary: QuantizedLayoutSummary, order: Int)]()
        for t in tensors {
            if let logical = logicalByMain[t.name] {
                result.append(logical)
                guard case .packed(let l) = logical.type else { continue }
                let key = "\(l.scheme.rawValue)|\(l.typeName)|\(l.groupSize ?? 0)|\(l.blockShape ?? [])|\(l.symmetric)|\(l.quantMethod)"
                let order = groups[key]?.order ?? groups.count
                var summary = groups[key]?.summary ?? QuantizedLayoutSummary(
                    scheme: l.scheme.rawValue, quantMethod: l.quantMethod, type: l.typeName, bits: l.bits, granularity: l.granularity, groupSize: l.groupSize,
                    blockShape: l.blockShape, symmetric: l.symmetric, codes: l.codes, tensors: 0, components: 0)
                summary.tensors += 1
                summary.components += l.components.count
                groups[key] = (summary, order)
            } else if !consumed.contains(t.name) {
                result.append(t)
            }
        }
        return Result(tensors: result, summaries: groups.values.sorted { $0.order < $1.order }.map(\.summary), findings: findings)
    }

    struct Attempt {
        var name: String
        var layout: PackedLayout
        var mainRole: String
    }

    struct LayoutError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    struct Context {
        let byName: [String: TensorInfo]
        let files: [MappedFile]
        let config: JSONValue?

        var method: String? { config?["quant_method"]?.stringValue?.lowercased() }

        func values(_ t: TensorInfo) -> StoredValues {
            let file = files[t.fileIndex].bytes
            return StoredValues(UnsafeRawBufferPointer(rebasing: file[t.byteOffset ..< t.byteOffset + t.byteCount]), t.type)
        }

        func dtype(_ t: TensorInfo) -> DType? { if case .dtype(let d) = t.type { return d }; return nil }

        /// The layout `t` is the main stored tensor of, if any.
        func layout(mainCandidate t: TensorInfo) throws(LayoutError) -> Attempt? {
            let name = t.name
            func prefix(_ suffix: String) -> String? { name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : nil }
            if let p = prefix(".qweight"), byName[p + ".qzeros"] != nil, byName[p + ".scales"] != nil {
                return try gptqOrAWQ(p)
            }
            if let p = prefix(".weight"), dtype(t) == .u8 || byName[p + ".weight.absmax"] != nil,
               let state = byName[p + ".weight.quant_state.bitsandbytes__nf4"] ?? byName[p + ".weight.quant_state.bitsandbytes__fp4"] {
                return try bitsandbytes4bit(p, state: state)
            }
            if let p = prefix(".weight"), let scb = byName[p + ".SCB"] { return try bitsandbytesInt8(p, scb: scb) }
            if let p = prefix(".weight"), let scale = byName[p + ".weight_scale_inv"] { return try fp8Block(p, scale: scale) }
            if let p = prefix(".weight_packed"), byName[p + ".weight_scale"] != nil { return try packQuantized(p) }
            if let p = prefix(".weight"), let d = dtype(t), [.f8E4M3, .f8E5M2, .i8].contains(d), byName[p + ".weight_scale"] != nil {
                return try scaled(p)
            }
            return nil
        }

        func require(_ name: String) throws(LayoutError) -> TensorInfo {
            guard let t = byName[name] else { throw LayoutError("\(name) is missing") }
            return t
        }

        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws(LayoutError) {
            if !condition { throw LayoutError(message()) }
        }

        func checkFloat(_ t: TensorInfo) throws(LayoutError) {
            try check(t.type.floatFormat != nil, "\(t.name) has type \(t.type.name); a float scale is expected")
        }

        /// Every index in `t` lies in 0 ..< bound.
        func checkIndices(_ t: TensorInfo, below bound: Int) throws(LayoutError) {
            let v = values(t)
            for i in 0 ..< t.elementCount {
                let x = v.int(i)
                if x < 0 || x >= bound { throw LayoutError("\(t.name)[\(i)] is \(x), outside 0..<\(bound)") }
            }
        }

        func configInt(_ keys: String...) -> Int? {
            for key in keys { if let v = config?[key]?.intValue { return v } }
            return nil
        }

        func gptqOrAWQ(_ p: String) throws(LayoutError) -> Attempt {
            let qweight = try require(p + ".qweight"), qzeros = try require(p + ".qzeros"), scales = try require(p + ".scales")
            try check(qweight.shape.count == 2 && qzeros.shape.count == 2 && scales.shape.count == 2, "\(p): qweight, qzeros and scales must be 2-D")
            try check(dtype(qweight) == .i32 || dtype(qweight) == .u32, "\(p).qweight has type \(qweight.type.name); I32 is expected")
            try check(dtype(qzeros) == .i32 || dtype(qzeros) == .u32, "\(p).qzeros has type \(qzeros.type.name); I32 is expected")
            try checkFloat(scales)
            let groups = scales.shape[0]
            try check(groups > 0, "\(p).scales has no groups")
            let isAWQ = scales.shape[1] == qweight.shape[1] * 8 && scales.shape[1] != qweight.shape[1]
            if isAWQ || (method == "awq" && byName[p + ".g_idx"] == nil) {
                try check(scales.shape[1] == qweight.shape[1] * 8, "\(p): AWQ scales [\(scales.shape[1])] do not match qweight columns × 8")
                let inFeatures = qweight.shape[0], out = scales.shape[1]
                try check(inFeatures % groups == 0, "\(p): \(inFeatures) input rows do not split into \(groups) groups")
                try check(qzeros.shape == [groups, out / 8], "\(p).qzeros has shape \(qzeros.shape); [\(groups), \(out / 8)] is expected")
                let bits = configInt("bits", "w_bit") ?? 4
                try check(bits == 4, "\(p): AWQ with \(bits) bits is not supported (only 4)")
                let group = inFeatures / groups
                if let declared = configInt("group_size", "q_group_size"), declared > 0 {
                    try check(declared == group, "\(p): group_size \(declared) in the config, but the scales give \(group)")
                }
                let zeroPoint = config?["zero_point"]?.boolValue ?? true
                let layout = PackedLayout(scheme: .awq, quantMethod: method ?? "awq", bits: 4, groupSize: group, symmetric: !zeroPoint,
                                          codes: "int", shape: [out, inFeatures],
                                          components: ["qweight": qweight, "qzeros": qzeros, "scales": scales])
                return Attempt(name: p + ".weight", layout: layout, mainRole: "qweight")
            }
            let bits = configInt("bits", "w_bit") ?? 4
            try check([2, 4, 8].contains(bits), "\(p): GPTQ with \(bits) bits is not supported (2, 4 or 8)")
            let perWord = 32 / bits, out = qweight.shape[1], inFeatures = qweight.shape[0] * perWord
            try check(scales.shape[1] == out, "\(p).scales has \(scales.shape[1]) columns; qweight has \(out)")
            try check(qzeros.shape == [groups, (out + perWord - 1) / perWord], "\(p).qzeros has shape \(qzeros.shape); [\(groups), \((out + perWord - 1) / perWord)] is expected")
            var components = ["qweight": qweight, "qzeros": qzeros, "scales": scales]
            if let gIdx = byName[p + ".g_idx"] {
                try check(gIdx.elementCount == inFeatures && gIdx.type.isInteger, "\(p).g_idx must hold \(inFeatures) integers")
                try checkIndices(gIdx, below: groups)
                components["g_idx"] = gIdx
            }
            var group = configInt("group_size", "q_group_size") ?? (inFeatures / groups)
            if group <= 0 { group = inFeatures }
            if components["g_idx"] == nil {
                try check((inFeatures + group - 1) / group == groups, "\(p): \(groups) scale groups do not match group size \(group)")
            }
            let format = (config?["checkpoint_format"]?.stringValue ?? config?["format"]?.stringValue ?? "gptq").lowercased()
            let layout = PackedLayout(scheme: .gptq, quantMethod: method ?? "gptq", bits: bits, groupSize: group,
                                      symmetric: config?["sym"]?.boolValue ?? true, codes: "int", shape: [out, inFeatures],
                                      components: components,
                                      zeroOffset: format == "gptq_v2" ? 0 : 1)
            return Attempt(name: p + ".weight", layout: layout, mainRole: "qweight")
        }

        func bitsandbytes4bit(_ p: String, state: TensorInfo) throws(LayoutError) -> Attempt {
            let weight = try require(p + ".weight"), absmax = try require(p + ".weight.absmax"), map = try require(p + ".weight.quant_map")
            try check(dtype(state) == .u8, "\(state.name) must be U8 (UTF-8 JSON)")
            let json: JSONValue
            do throws(JSONParseError) { json = try JSONParser.parse(values(state).raw) } catch {
                throw LayoutError("\(state.name) is not JSON: \(error.reason)")
            }
            guard let blocksize = json["blocksize"]?.intValue, let shapeValues = json["shape"]?.arrayValue else {
                throw LayoutError("\(state.name) lacks blocksize or shape")
            }
            let shape = shapeValues.compactMap(\.intValue)
            try check(shape.count == 2 && shape.allSatisfy { $0 > 0 }, "\(state.name): shape \(shape) is not a 2-D weight shape")
            try check([32, 64, 128, 256, 512, 1024, 2048, 4096].contains(blocksize), "\(state.name): blocksize \(blocksize) is not one bitsandbytes uses")
            let n = shape[0] * shape[1], blocks = (n + blocksize - 1) / blocksize
            let quantType = json["quant_type"]?.stringValue ?? String(state.name.split(separator: "_").last ?? "nf4")
            try check(quantType == "nf4" || quantType == "fp4", "\(state.name): quant_type \(quantType) is not nf4 or fp4")
            try check(dtype(weight) == .u8 && weight.byteCount == (n + 1) / 2, "\(p).weight holds \(weight.byteCount) bytes; \((n + 1) / 2) packed nibbles are expected")
            try check(map.elementCount == 16 && map.type.floatFormat != nil, "\(map.name) must hold 16 float values")
            try check(absmax.elementCount == blocks, "\(absmax.name) holds \(absmax.elementCount) values; \(blocks) blocks are expected")
            var components = ["weight": weight, "absmax": absmax, "quant_map": map, "quant_state": state]
            var nestedBlock = 0, nestedOffset: Float = 0
            if dtype(absmax) == .u8 {
                let nested = try require(p + ".weight.nested_absmax"), nestedMap = try require(p + ".weight.nested_quant_map")
                nestedBlock = json["nested_blocksize"]?.intValue ?? 256
                try check(nestedBlock > 0, "\(state.name): nested_blocksize \(nestedBlock)")
                nestedOffset = Float(json["nested_offset"]?.doubleValue ?? 0)
                try check(nestedMap.elementCount == 256 && nestedMap.type.floatFormat != nil, "\(nestedMap.name) must hold 256 float values")
                try check(nested.elementCount == (blocks + nestedBlock - 1) / nestedBlock && nested.type.floatFormat != nil,
                          "\(nested.name) holds \(nested.elementCount) values; \((blocks + nestedBlock - 1) / nestedBlock) are expected")
                components["nested_absmax"] = nested
                components["nested_quant_map"] = nestedMap
            } else {
                try checkFloat(absmax)
            }
            let layout = PackedLayout(scheme: .bitsandbytes4bit, quantMethod: method ?? "bitsandbytes", bits: 4, groupSize: blocksize,
                                      symmetric: true, codes: quantType, shape: shape, components: components,
                                      nestedBlockSize: nestedBlock, nestedOffset: nestedOffset)
            return Attempt(name: p + ".weight", layout: layout, mainRole: "weight")
        }

        func bitsandbytesInt8(_ p: String, scb: TensorInfo) throws(LayoutError) -> Attempt {
            let weight = try require(p + ".weight")
            try check(dtype(weight) == .i8 && weight.shape.count == 2, "\(p).weight must be a 2-D I8 tensor beside SCB")
            try checkFloat(scb)
            try check(scb.elementCount == weight.shape[0], "\(scb.name) holds \(scb.elementCount) values; \(weight.shape[0]) rows are expected")
            var components = ["weight": weight, "SCB": scb]
            if let format = byName[p + ".weight_format"] {
                try check(format.elementCount == 1 && values(format).int(0) == 0, "\(format.name) is not 0 (row): only the row format is defined")
                components["weight_format"] = format
            }
            let layout = PackedLayout(scheme: .bitsandbytesInt8, quantMethod: method ?? "bitsandbytes", bits: 8, groupSize: nil,
                                      symmetric: true, codes: "int", shape: weight.shape, components: components)
            return Attempt(name: p + ".weight", layout: layout, mainRole: "weight")
        }

        func fp8Block(_ p: String, scale: TensorInfo) throws(LayoutError) -> Attempt {
            let weight = try require(p + ".weight")
            let codes = dtype(weight) == .f8E5M2 ? "e5m2" : "e4m3"
            try check((dtype(weight) == .f8E4M3 || dtype(weight) == .f8E5M2) && weight.shape.count == 2, "\(p).weight must be a 2-D FP8 tensor beside weight_scale_inv")
            try checkFloat(scale)
            let declared = config?["weight_block_size"]?.arrayValue?.compactMap(\.intValue)
            let block = declared?.count == 2 ? declared! : [128, 128]
            try check(block.allSatisfy { $0 > 0 }, "\(p): weight_block_size \(block)")
            let expected = [(weight.shape[0] + block[0] - 1) / block[0], (weight.shape[1] + block[1] - 1) / block[1]]
            try check(scale.shape == expected, "\(scale.name) has shape \(scale.shape); \(expected) is expected for blocks \(block)")
            let layout = PackedLayout(scheme: .fp8Block, quantMethod: method ?? "fp8", bits: 8, groupSize: block[1], blockShape: block,
                                      symmetric: true, codes: codes, shape: weight.shape,
                                      components: ["weight": weight, "weight_scale_inv": scale].merging(companions(p)) { a, _ in a })
            return Attempt(name: p + ".weight", layout: layout, mainRole: "weight")
        }

        /// Activation scales stored beside a weight: part of the layout, not weights of their own.
        func companions(_ p: String) -> [String: TensorInfo] {
            var found = [String: TensorInfo]()
            for role in ["input_scale", "input_zero_point", "output_scale", "k_scale", "v_scale", "weight_global_scale", "input_global_scale"] {
                if let t = byName[p + "." + role] { found[role] = t }
            }
            return found
        }

        /// The QuantizationArgs of the compressed-tensors config group that targets weights.
        var weightArgs: JSONValue? {
            config?["config_groups"]?.objectValue?.members.lazy.compactMap { $0.value["weights"] }.first
        }

        func scaleLayout(_ p: String, scale: TensorInfo, out: Int, inFeatures: Int) throws(LayoutError) -> Int? {
            try checkFloat(scale)
            let count = scale.elementCount
            if count == 1 { return nil }
            if count == out { return inFeatures }
            try check(count % out == 0 && inFeatures % (count / out) == 0, "\(scale.name) holds \(count) scales, which fit neither tensor, channel nor group scaling of [\(out), \(inFeatures)]")
            return inFeatures / (count / out)
        }

        func scaled(_ p: String) throws(LayoutError) -> Attempt {
            let weight = try require(p + ".weight"), scale = try require(p + ".weight_scale")
            try check(weight.shape.count == 2, "\(p).weight must be 2-D")
            let out = weight.shape[0], inFeatures = weight.shape[1]
            let group = try scaleLayout(p, scale: scale, out: out, inFeatures: inFeatures)
            var components = ["weight": weight, "weight_scale": scale].merging(companions(p)) { a, _ in a }
            if let zero = byName[p + ".weight_zero_point"] {
                try check(zero.elementCount == scale.elementCount && zero.type.isInteger, "\(zero.name) must hold one integer per scale")
                components["weight_zero_point"] = zero
            }
            let d = dtype(weight)!
            let codes = d == .i8 ? "int" : (d == .f8E5M2 ? "e5m2" : "e4m3")
            let symmetric = weightArgs?["symmetric"]?.boolValue ?? (components["weight_zero_point"] == nil)
            let layout = PackedLayout(scheme: .scaled, quantMethod: method ?? (d == .i8 ? "compressed-tensors" : "fp8"), bits: 8,
                                      groupSize: group, symmetric: symmetric, codes: codes, shape: weight.shape, components: components)
            return Attempt(name: p + ".weight", layout: layout, mainRole: "weight")
        }

        func packQuantized(_ p: String) throws(LayoutError) -> Attempt {
            let packed = try require(p + ".weight_packed"), scale = try require(p + ".weight_scale")
            try check(packed.shape.count == 2 && (dtype(packed) == .i32 || dtype(packed) == .u32), "\(packed.name) must be a 2-D I32 tensor")
            let out = packed.shape[0]
            var inFeatures: Int
            var components = ["weight_packed": packed, "weight_scale": scale].merging(companions(p)) { a, _ in a }
            if let shapeTensor = byName[p + ".weight_shape"] {
                try check(shapeTensor.elementCount == 2 && shapeTensor.type.isInteger, "\(shapeTensor.name) must hold 2 integers")
                let v = values(shapeTensor)
                try check(v.int(0) == out && v.int(1) > 0, "\(shapeTensor.name) says [\(v.int(0)), \(v.int(1))]; weight_packed has \(out) rows")
                inFeatures = v.int(1)
                components["weight_shape"] = shapeTensor
            } else {
                inFeatures = packed.shape[1] * 32 / (weightArgs?["num_bits"]?.intValue ?? 4)
            }
            let bits = weightArgs?["num_bits"]?.intValue ?? (32 * packed.shape[1] / max(inFeatures, 1))
            try check([2, 4, 8].contains(bits), "\(p): \(bits)-bit packing is not supported (2, 4 or 8)")
            let perWord = 32 / bits
            try check(packed.shape[1] == (inFeatures + perWord - 1) / perWord, "\(packed.name) has \(packed.shape[1]) words per row; \((inFeatures + perWord - 1) / perWord) are expected for \(inFeatures) \(bits)-bit codes")
            var group = try scaleLayout(p, scale: scale, out: out, inFeatures: inFeatures)
            if let declared = weightArgs?["group_size"]?.intValue, declared > 0, group != nil { group = declared }
            let groups = max(scale.elementCount / out, 1)
            if let zero = byName[p + ".weight_zero_point"] {
                try check(zero.elementCount == ((out + perWord - 1) / perWord) * groups && zero.type.isInteger,
                          "\(zero.name) has \(zero.elementCount) values; \(((out + perWord - 1) / perWord) * groups) packed zero points are expected")
                components["weight_zero_point"] = zero
            }
            if let gIdx = byName[p + ".weight_g_idx"] {
                try check(gIdx.elementCount == inFeatures && gIdx.type.isInteger, "\(gIdx.name) must hold \(inFeatures) integers")
                try checkIndices(gIdx, below: groups)
                components["weight_g_idx"] = gIdx
            } else if let group, groups > 1 {
                try check((inFeatures + group - 1) / group == groups, "\(p): \(groups) scale groups do not match group size \(group)")
            }
            let layout = PackedLayout(scheme: .packQuantized, quantMethod: method ?? "compressed-tensors", bits: bits, groupSize: group,
                                      symmetric: weightArgs?["symmetric"]?.boolValue ?? (components["weight_zero_point"] == nil),
                                      codes: "int", shape: [out, inFeatures], components: components)
            return Attempt(name: p + ".weight", layout: layout, mainRole: "weight_packed")
        }
    }
}
