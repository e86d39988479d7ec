import PedigreeFormats

/// Two tensors, one from each model, that hold the same weights if the models are related.
public struct TensorPair: Sendable {
    public let a: TensorInfo
    public let b: TensorInfo
    /// The shared name both sides pair under (HF spelling).
    public let key: String
    public let kind: TensorKind
    /// Rows compared: all of them, or the shared prefix of two vocabularies.
    public let rows: Int
    /// Stored-row maps of each side (the rotary layout of llama.cpp's Q/K).
    public let rowMapA: RowMap
    public let rowMapB: RowMap
    /// The axis (of the 2-D view rows × rowLength) that indexes the residual stream, when known.
    public let hiddenAxis: Int?
}

/// The outcome of pairing two models' tensors by name.
public struct Pairing: Sendable {
    public var pairs: [TensorPair] = []
    public var findings: [Finding] = []
    /// Tensors of a (of b) with no counterpart.
    public var onlyInA: [TensorInfo] = []
    public var onlyInB: [TensorInfo] = []
    /// The residual-stream width both models agree on, if any.
    public var hiddenSize: Int?
}

/// Pairs the tensors of two models by name, across safetensors and GGUF spellings.
public enum TensorPairing {
    public static func pair(_ a: Model, _ b: Model) -> Pairing {
        var result = Pairing()
        let familyA = family(of: a), familyB = family(of: b)
        var indexB = [String: TensorInfo]()
        for t in b.tensors {
            let key = NameMapping.pairingKey(t.name, format: b.format, family: familyB ?? familyA)
            if indexB[key] == nil { indexB[key] = t }
        }
        let hidden = hiddenSize(a) ?? hiddenSize(b)
        result.hiddenSize = hidden
        var matchedB = Set<String>()
        for ta in a.tensors {
            let key = NameMapping.pairingKey(ta.name, format: a.format, family: familyA ?? familyB)
            guard let tb = indexB[key] else { result.onlyInA.append(ta); continue }
            matchedB.insert(tb.name)
            let kind = TensorKind.of(ta)
            var rows = ta.rowCount
            if ta.shape != tb.shape {
                if ta.shape.count == tb.shape.count, ta.shape.count >= 2, Array(ta.shape.dropFirst()) == Array(tb.shape.dropFirst()),
                   kind == .embedding || key.hasSuffix("lm_head.weight") {
                    rows = min(ta.shape[0], tb.shape[0])
                    let (more, fewer, side) = ta.shape[0] > tb.shape[0] ? (ta.shape[0], tb.shape[0], "a") : (tb.shape[0], ta.shape[0], "b")
                    result.findings.append(Finding(.info, "extra-vocab-rows", tensor: ta.name,
                        "\(side) has \(more) rows, the other \(fewer): the first \(fewer) are compared, rows \(fewer)-\(more - 1) are \(side)'s own"))
                } else {
                    result.findings.append(Finding(.warning, "shape-mismatch", tensor: ta.name,
                        "a has shape \(ta.shape), b (\(tb.name)) has \(tb.shape): not compared"))
                    continue
                }
            }
            let mapA = rowMap(for: ta, in: a, family: familyA, otherConfig: b)
            let mapB = rowMap(for: tb, in: b, family: familyB, otherConfig: a)
            var finalA = mapA, finalB = mapB
            if mapA == mapB { finalA = .identity; finalB = .identity }   // both stored alike
            if !finalA.fits(rows: ta.rowCount) || !finalB.fits(rows: tb.rowCount) {
                result.findings.append(Finding(.warning, "rotary-layout-mismatch", tensor: ta.name,
                    "the rotary row order cannot be undone with the head counts in the metadata"))
                finalA = .identity; finalB = .identity
            }
            result.pairs.append(TensorPair(a: ta, b: tb, key: key, kind: kind, rows: rows, rowMapA: finalA, rowMapB: finalB,
                                           hiddenAxis: kind.carriesEvidence ? hiddenAxis(key: key, tensor: ta, hidden: hidden) : nil))
        }
        result.onlyInB = b.tensors.filter { !matchedB.contains($0.name) }
        for t in result.onlyInA {
            result.findings.append(Finding(TensorKind.of(t) == .buffer ? .info : .warning, "only-in-a", tensor: t.name,
                                           "\(t.name) \(t.shape) is in a only"))
        }
        for t in result.onlyInB {
            result.findings.append(Finding(TensorKind.of(t) == .buffer ? .info : .warning, "only-in-b", tensor: t.name,
                                           "\(t.name) \(t.shape) is in b only"))
        }
        return result
    }

    static func family(of model: Model) -> NameMapping.Family? {
        guard model.format == .gguf else { return nil }
        return NameMapping.family(ofArchitecture: model.metadata("general.architecture")?.stringValue)
    }

    /// The stored row order of a tensor: rotary for llama-family GGUF Q and K.
    static func rowMap(for tensor: TensorInfo, in model: Model, family: NameMapping.Family?, otherConfig other: Model) -> RowMap {
        guard model.format == .gguf, family == .llama, model.metadata("general.architecture")?.stringValue == "llama" else {
            return .identity
        }
        let isQ = tensor.name.hasSuffix("attn_q.weight") || tensor.name.hasSuffix("attn_q.bias")
        let isK = tensor.name.hasSuffix("attn_k.weight") || tensor.name.hasSuffix("attn_k.bias")
        guard isQ || isK else { return .identity }
        let heads = model.metadata("llama.attention.head_count")?.intValue ?? other.config?["num_attention_heads"]?.intValue
        let kvHeads = model.metadata("llama.attention.head_count_kv")?.intValue
            ?? other.config?["num_key_value_heads"]?.intValue ?? heads
        guard let h = isQ ? heads : kvHeads, h > 0 else { return .identity }
        return .rotary(heads: h)
    }

    /// The residual-stream width: config `hidden_size`, GGUF `{arch}.embedding_length`, or the
    /// width of the token embedding.
    static func hiddenSize(_ model: Model) -> Int? {
        if let h = model.config?["hidden_size"]?.intValue ?? model.config?["d_model"]?.intValue ?? model.config?["n_embd"]?.intValue { return h }
        if let arch = model.metadata("general.architecture")?.stringValue, let h = model.metadata("\(arch).embedding_length")?.intValue {
            return h
        }
        if let embedding = model.tensors.first(where: { TensorKind.of($0) == .embedding && $0.shape.count == 2 }) {
            return embedding.shape[1]
        }
        return nil
    }

    /// Modules whose output (rows) is the residual stream; all others read it (columns).
    static let writesResidual = ["o_proj", "down_proj", "attention.output.dense", "output.dense", "dense_4h_to_h",
                                 "fc2", "out_proj", "w2", "attn_output", "ffn_down"]

    static func hiddenAxis(key: String, tensor: TensorInfo, hidden: Int?) -> Int? {
        guard tensor.shape.count >= 2 else { return nil }
        let rows = tensor.rowCount, columns = tensor.rowLength
        let preferred = writesResidual.contains(where: { key.contains($0 + ".") }) && !key.contains("intermediate") ? 0 : 1
        guard let hidden else { return preferred }
        let size = preferred == 0 ? rows : columns
        if size == hidden { return preferred }
        let other = preferred == 0 ? columns : rows
        return other == hidden ? 1 - preferred : nil
    }
}
