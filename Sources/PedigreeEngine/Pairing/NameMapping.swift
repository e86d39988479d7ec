import PedigreeFormats

/// Maps tensor names of llama.cpp's GGUF files to Hugging Face names, so the two sides of a
/// comparison pair up across formats (formats.md section 4; llama.cpp's `tensor_mapping.py`).
///
/// Names map through one table per family; `.weight` and `.bias` suffixes carry over, `N` is a
/// layer index. A name no table knows keeps its spelling.
public enum NameMapping {
    /// The family of a GGUF `general.architecture`, which decides the table.
    public enum Family: String, Sendable { case llama, bert }

    public static func family(ofArchitecture architecture: String?) -> Family? {
        guard let architecture else { return nil }
        if ["bert", "nomic-bert", "jina-bert-v2", "modern-bert", "roberta"].contains(architecture) { return .bert }
        return .llama
    }

    /// GGUF stems (without `blk.N.` and the suffix) and their HF counterparts, per family.
    static let globalNames: [Family: [String: String]] = [
        .llama: ["token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"],
        .bert: ["token_embd": "embeddings.word_embeddings", "token_types": "embeddings.token_type_embeddings",
                "position_embd": "embeddings.position_embeddings", "token_embd_norm": "embeddings.LayerNorm"],
    ]
    static let layerNames: [Family: (prefix: String, names: [String: String])] = [
        .llama: ("model.layers.", [
            "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
            "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
            "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
            "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
            "post_attention_norm": "post_attention_layernorm", "ffn_gate_inp": "block_sparse_moe.gate",
        ]),
        .bert: ("encoder.layer.", [
            "attn_q": "attention.self.query", "attn_k": "attention.self.key", "attn_v": "attention.self.value",
            "attn_output": "attention.output.dense", "attn_output_norm": "attention.output.LayerNorm",
            "ffn_up": "intermediate.dense", "ffn_down": "output.dense", "layer_output_norm": "output.LayerNorm",
            "ffn_norm": "output.LayerNorm",
        ]),
    ]

    /// The Hugging Face name of GGUF tensor `name` in `family`, or nil when the table has none.
    public static func huggingFaceName(ofGGUF name: String, family: Family) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let suffix = parts.last, suffix == "weight" || suffix == "bias", parts.count >= 2 else { return nil }
        if parts.count == 2, let mapped = globalNames[family]?[parts[0]] { return mapped + "." + suffix }
        if parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), let table = layerNames[family],
           let mapped = table.names[parts[2]] {
            return "\(table.prefix)\(layer).\(mapped).\(suffix)"
        }
        return nil
    }

    /// Prefixes that wrap the same module tree (`bert.` of BertForMaskedLM, `model.`, PEFT's `base_model.model.`).
    static let wrapperPrefixes = ["base_model.model.", "bert.", "roberta.", "model.", "transformer."]

    /// The key two names must share to pair: the HF name (GGUF names mapped), one wrapper prefix dropped.
    public static func pairingKey(_ name: String, format: ModelFormat, family: Family?) -> String {
        var key = name
        if format == .gguf, let family, let mapped = huggingFaceName(ofGGUF: name, family: family) { key = mapped }
        for prefix in wrapperPrefixes where key.hasPrefix(prefix) {
            key.removeFirst(prefix.count)
            break
        }
        return key
    }
}
