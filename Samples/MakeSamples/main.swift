// pedigree-samples: writes a small, deterministic family of llama-shaped checkpoints.
//
//   pedigree-samples [DIR]        (default Samples/family)
//
// DIR/base/              model.safetensors (F32) + config.json: the ancestor
// DIR/finetune/          base plus a small dense update (F16), with a model card naming its base
// DIR/unrelated/         fresh weights from another seed (BF16)
// DIR/base-Q8_0.gguf     base as llama.cpp would convert and quantize it (GGUF v3, Q8_0)
//
// Every byte depends only on the seeds below: two runs write identical files.

import CPedigreeKernels
import Foundation
import Pedigree

// MARK: - Random numbers

/// SplitMix64 (Steele, Lea and Flood, 2014) with Box-Muller normals: small, fast, and the same
/// sequence on every run.
struct SampleRandom {
    private var state: UInt64
    private var spare: Double?

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    mutating func unit() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal value.
    mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        let r = (-2 * log(unit())).squareRoot(), t = 2 * Double.pi * unit()
        spare = r * sin(t)
        return r * cos(t)
    }
}

// MARK: - Shapes and weights

/// The architecture of every sample: a two-layer llama with grouped-query attention.
enum Shape {
    static let hidden = 128, heads = 4, kvHeads = 2, intermediate = 352, layers = 2, vocab = 512
    static var headDim: Int { hidden / heads }
    static var kvDim: Int { kvHeads * headDim }
}

/// One tensor in Hugging Face naming, PyTorch shape order, row-major values.
struct SampleTensor {
    let name: String
    let shape: [Int]
    var values: [Float]
    var isNorm: Bool { shape.count == 1 }
}

/// The tensors of a freshly initialised model: matrices N(0, 0.02) (output projections scaled by
/// 1/sqrt(2·layers), as GPT-2 does), norm gains near 1.
func initialWeights(seed: UInt64) -> [SampleTensor] {
    var random = SampleRandom(seed: seed)
    func matrix(_ name: String, _ rows: Int, _ columns: Int, std: Double = 0.02) -> SampleTensor {
        SampleTensor(name: name, shape: [rows, columns], values: (0 ..< rows * columns).map { _ in Float(std * random.normal()) })
    }
    func norm(_ name: String) -> SampleTensor {
        SampleTensor(name: name, shape: [Shape.hidden], values: (0 ..< Shape.hidden).map { _ in Float(1 + 0.02 * random.normal()) })
    }
    let h = Shape.hidden, residualStd = 0.02 / Double(2 * Shape.layers).squareRoot()
    var tensors = [matrix("model.embed_tokens.weight", Shape.vocab, h)]
    for n in 0 ..< Shape.layers {
        let p = "model.layers.\(n)."
        tensors += [
            norm(p + "input_layernorm.weight"),
            matrix(p + "self_attn.q_proj.weight", h, h),
            matrix(p + "self_attn.k_proj.weight", Shape.kvDim, h),
            matrix(p + "self_attn.v_proj.weight", Shape.kvDim, h),
            matrix(p + "self_attn.o_proj.weight", h, h, std: residualStd),
            norm(p + "post_attention_layernorm.weight"),
            matrix(p + "mlp.gate_proj.weight", Shape.intermediate, h),
            matrix(p + "mlp.up_proj.weight", Shape.intermediate, h),
            matrix(p + "mlp.down_proj.weight", h, Shape.intermediate, std: residualStd),
        ]
    }
    tensors += [norm("model.norm.weight"), matrix("lm_head.weight", Shape.vocab, h)]
    return tensors
}

/// `tensors` plus a dense update of every entry: N(0, 0.002) on matrices, N(0, 0.01) on norms.
func fineTuned(_ tensors: [SampleTensor], seed: UInt64) -> [SampleTensor] {
    var random = SampleRandom(seed: seed)
    return tensors.map { t in
        var t = t
        let std = t.isNorm ? 0.01 : 0.002
        for i in t.values.indices { t.values[i] += Float(std * random.normal()) }
        return t
    }
}

// MARK: - Encodings

func littleEndianBytes<T: FixedWidthInteger>(_ words: [T]) -> [UInt8] {
    var bytes = [UInt8]()
    bytes.reserveCapacity(words.count * MemoryLayout<T>.size)
    for w in words { withUnsafeBytes(of: w.littleEndian) { bytes += $0 } }
    return bytes
}

func encode(_ values: [Float], as dtype: DType) -> [UInt8] {
    var half = [UInt16](repeating: 0, count: values.count)
    switch dtype {
    case .f32: return littleEndianBytes(values.map(\.bitPattern))
    case .f16: pdg_f32_to_f16_row_ref(values, &half, values.count)
    case .bf16: pdg_f32_to_bf16_row_ref(values, &half, values.count)
    default: fatalError("no encoder for \(dtype)")
    }
    return littleEndianBytes(half)
}

// MARK: - Writers

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pedigree-samples: error: \(message)\n".utf8))
    exit(1)
}

func writeText(_ text: String, to path: String) {
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch { fail("\(path): \(error)") }
}

func makeDirectory(_ path: String) {
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch { fail("\(path): \(error)") }
}

/// An HF-style folder: `model.safetensors` in `dtype` and a llama `config.json`.
func writeHFModel(_ tensors: [SampleTensor], dtype: DType, torchDtype: String, to folder: String) {
    makeDirectory(folder)
    let entries = tensors.map { SafetensorsWriter.Tensor(name: $0.name, dtype: dtype, shape: $0.shape, data: encode($0.values, as: dtype)) }
    do { try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: folder + "/model.safetensors") } catch { fail(error.description) }
    writeText("""
    {
      "architectures": ["LlamaForCausalLM"],
      "model_type": "llama",
      "hidden_size": \(Shape.hidden),
      "intermediate_size": \(Shape.intermediate),
      "num_attention_heads": \(Shape.heads),
      "num_key_value_heads": \(Shape.kvHeads),
      "num_hidden_layers": \(Shape.layers),
      "vocab_size": \(Shape.vocab),
      "max_position_embeddings": 512,
      "rms_norm_eps": 1e-05,
      "rope_theta": 10000.0,
      "hidden_act": "silu",
      "tie_word_embeddings": false,
      "torch_dtype": "\(torchDtype)"
    }

    """, to: folder + "/config.json")
}

/// llama.cpp's names for the HF llama names used here.
func ggufName(_ hf: String) -> String {
    let global = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                  "lm_head.weight": "output.weight"]
    if let name = global[hf] { return name }
    let layer = ["input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                 "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
                 "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"]
    let parts = hf.split(separator: ".").map(String.init)   // model, layers, N, module..., weight
    guard parts.count >= 5, let stem = layer[parts[3 ..< parts.count - 1].joined(separator: ".")] else {
        fail("no GGUF name for \(hf)")
    }
    return "blk.\(parts[2]).\(stem).weight"
}

/// The rows of Q or K in llama.cpp's rotary layout: stored row h·hd + 2i + c holds HF row
/// h·hd + c·hd/2 + i.
func rotaryPermuted(_ t: SampleTensor, heads: Int) -> [Float] {
    let rows = t.shape[0], columns = t.shape[1], hd = rows / heads
    var out = [Float](repeating: 0, count: t.values.count)
    for h in 0 ..< heads {
        for i in 0 ..< hd / 2 {
            for c in 0 ..< 2 {
                let stored = h * hd + 2 * i + c, source = h * hd + c * hd / 2 + i
                out.replaceSubrange(stored * columns ..< (stored + 1) * columns,
                                    with: t.values[source * columns ..< (source + 1) * columns])
            }
        }
    }
    return out
}

/// The base as llama.cpp's converter writes it with `--outtype q8_0`: 2-D weights Q8_0 (rotary
/// Q/K rows permuted first), norms F32.
func writeGGUF(_ tensors: [SampleTensor], to path: String) {
    do {
        var writer = try GGUFWriter()
        let u32: (Int) -> GGUFValue = { .uint32(UInt32($0)) }
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("general.type", .string("model")),
            ("general.name", .string("base")),
            ("general.organization", .string("pedigree-samples")),
            ("general.base_model.count", u32(1)),
            ("general.base_model.0.name", .string("base")),
            ("general.base_model.0.organization", .string("pedigree-samples")),
            ("llama.block_count", u32(Shape.layers)),
            ("llama.context_length", u32(512)),
            ("llama.embedding_length", u32(Shape.hidden)),
            ("llama.feed_forward_length", u32(Shape.intermediate)),
            ("llama.attention.head_count", u32(Shape.heads)),
            ("llama.attention.head_count_kv", u32(Shape.kvHeads)),
            ("llama.rope.freq_base", .float32(10000)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("llama.rope.dimension_count", u32(Shape.headDim)),
            ("llama.vocab_size", u32(Shape.vocab)),
            ("general.file_type", u32(7)),              // LLAMA_FTYPE_MOSTLY_Q8_0
            ("general.quantization_version", u32(2)),
        ]
        for (key, value) in metadata { try writer.add(key, value) }
        for t in tensors {
            let name = ggufName(t.name)
            if t.isNorm {
                try writer.addTensor(name: name, shape: t.shape, type: .f32, data: encode(t.values, as: .f32))
                continue
            }
            var values = t.values
            if name.hasSuffix("attn_q.weight") { values = rotaryPermuted(t, heads: Shape.heads) }
            if name.hasSuffix("attn_k.weight") { values = rotaryPermuted(t, heads: Shape.kvHeads) }
            var blocks = [UInt8](repeating: 0, count: GGMLType.q8_0.byteCount(elements: values.count)!)
            pdg_quantize_q8_0_ref(values, &blocks, values.count)
            try writer.addTensor(name: name, shape: t.shape, type: .q8_0, data: blocks)
        }
        try writer.write(to: path)
    } catch {
        fail(error.description)
    }
}

// MARK: - The family

let arguments = CommandLine.arguments.dropFirst()
if arguments.count > 1 || arguments.first?.hasPrefix("-") == true {
    FileHandle.standardError.write(Data("usage: pedigree-samples [DIR]   (default Samples/family)\n".utf8))
    exit(64)
}
let root = arguments.first ?? "Samples/family"
makeDirectory(root)

let base = initialWeights(seed: 0x5EED_0001)
writeHFModel(base, dtype: .f32, torchDtype: "float32", to: root + "/base")

writeHFModel(fineTuned(base, seed: 0x5EED_0002), dtype: .f16, torchDtype: "float16", to: root + "/finetune")
writeText("""
---
base_model: pedigree-samples/base
base_model_relation: finetune
license: apache-2.0
tags:
- pedigree-samples
---
# finetune

A dense fine-tune of `pedigree-samples/base`: every weight of the base plus a small update,
stored as F16. Synthetic weights made by `pedigree-samples` with fixed seeds.

""", to: root + "/finetune/README.md")

writeHFModel(initialWeights(seed: 0x5EED_0003), dtype: .bf16, torchDtype: "bfloat16", to: root + "/unrelated")

writeGGUF(base, to: root + "/base-Q8_0.gguf")

for name in ["base", "finetune", "unrelated", "base-Q8_0.gguf"] {
    print("wrote \(root)/\(name)")
}
