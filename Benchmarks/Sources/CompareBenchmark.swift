import Foundation
import Pedigree

/// `PedigreeBenchmarks compare [--size-mb N] [--dir DIR]`: makes a llama-shaped F16 base and a
/// fine-tune of it with the project's own writer (skipped when they exist), then times, in one
/// run, a plain read of both files (the physical limit) and `compare` on them; prints the ratio.
enum CompareBenchmark {
    /// A llama-like shape with about `megabytes` of F16 weights.
    struct Shape {
        let hidden: Int, intermediate: Int, layers: Int, vocabulary: Int
        init(megabytes: Int) {
            hidden = megabytes >= 1024 ? 2048 : (megabytes >= 256 ? 1024 : 512)
            intermediate = hidden * 11 / 4
            vocabulary = 32000
            let perLayer = 4 * hidden * hidden + 3 * hidden * intermediate
            let embeddings = 2 * vocabulary * hidden
            layers = max(1, (megabytes * 1_048_576 / 2 - embeddings) / perLayer)
        }

        var tensors: [(name: String, shape: [Int])] {
            var list: [(String, [Int])] = [("model.embed_tokens.weight", [vocabulary, hidden])]
            for i in 0 ..< layers {
                let p = "model.layers.\(i)."
                list += [(p + "self_attn.q_proj.weight", [hidden, hidden]), (p + "self_attn.k_proj.weight", [hidden, hidden]),
                         (p + "self_attn.v_proj.weight", [hidden, hidden]), (p + "self_attn.o_proj.weight", [hidden, hidden]),
                         (p + "mlp.gate_proj.weight", [intermediate, hidden]), (p + "mlp.up_proj.weight", [intermediate, hidden]),
                         (p + "mlp.down_proj.weight", [hidden, intermediate]),
                         (p + "input_layernorm.weight", [hidden]), (p + "post_attention_layernorm.weight", [hidden])]
            }
            list += [("model.norm.weight", [hidden]), ("lm_head.weight", [vocabulary, hidden])]
            return list
        }
    }

    /// `--size-mb N` and `--dir DIR` from the arguments.
    static func options(_ arguments: [String]) -> (megabytes: Int, directory: String) {
        var megabytes = 512
        var directory = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-bench").path
        var i = 0
        while i < arguments.count {
            if arguments[i] == "--size-mb", i + 1 < arguments.count { megabytes = Int(arguments[i + 1]) ?? megabytes; i += 1 }
            if arguments[i] == "--dir", i + 1 < arguments.count { directory = arguments[i + 1]; i += 1 }
            i += 1
        }
        return (megabytes, directory)
    }

    /// `make`: writes base-N and finetune-N (a dense 5% perturbation) unless they exist.
    static func makeCheckpoints(_ arguments: [String]) {
        let (megabytes, directory) = options(arguments)
        let shape = Shape(megabytes: megabytes)
        make("\(directory)/base-\(megabytes)", shape: shape, seed: 1, perturbation: 0)
        make("\(directory)/finetune-\(megabytes)", shape: shape, seed: 1, perturbation: 0.05)
    }

    /// `compare`: makes the pair, then times a plain read of both files and compare, in one run.
    static func run(_ arguments: [String]) {
        makeCheckpoints(arguments)
        let (megabytes, directory) = options(arguments)
        let base = "\(directory)/base-\(megabytes)", finetune = "\(directory)/finetune-\(megabytes)"
        let read = time { readOnce(["\(base)/model.safetensors", "\(finetune)/model.safetensors"]) }
        var comparison: Comparison?
        let compare = time { comparison = try? Pedigree.compare(base, finetune) }
        print(String(format: "compare %d MB F16 pair: read once %.3f s, compare %.3f s, ratio %.2f; verdict %@",
                     megabytes, read, compare, compare / read, comparison?.verdict.relation.rawValue ?? "error"))
    }

    /// `similarity A B`: seconds of the similarity pass alone (every tensor measured, no judges),
    /// the best of 3, after one untimed pass.
    static func similaritySeconds(_ a: String, _ b: String) {
        _ = try? Pedigree.measure(a, b)
        let best = (0 ..< 3).map { _ in time { _ = try? Pedigree.measure(a, b) } }.min() ?? 0
        print(String(format: "%.3f", best))
    }

    /// `readonce FILE...`: seconds to read every byte of the files once (the best of 3).
    static func readOnceSeconds(_ paths: [String]) {
        let best = (0 ..< 3).map { _ in time { readOnce(paths) } }.min() ?? 0
        print(String(format: "%.3f", best))
    }

    /// `inspect PATH`: median milliseconds of 20 in-process inspections.
    static func inspectMilliseconds(_ path: String) {
        let times = (0 ..< 20).map { _ in time { _ = try? Pedigree.inspect(path) } }.sorted()
        print(String(format: "%.2f", 1000 * times[times.count / 2]))
    }

    /// Writes an HF-style folder (model.safetensors + config.json) unless it exists.
    static func make(_ folder: String, shape: Shape, seed: UInt64, perturbation: Float) {
        let weights = folder + "/model.safetensors"
        if FileManager.default.fileExists(atPath: weights) { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": \(shape.hidden), "intermediate_size": \(shape.intermediate),
         "num_hidden_layers": \(shape.layers), "num_attention_heads": \(shape.hidden / 64), "num_key_value_heads": \(shape.hidden / 64), "vocab_size": \(shape.vocabulary)}
        """
        FileManager.default.createFile(atPath: folder + "/config.json", contents: Data(config.utf8))
        var tensors = [SafetensorsWriter.Tensor]()
        for (index, t) in shape.tensors.enumerated() {
            let count = t.shape.reduce(1, *)
            let isNorm = t.shape.count == 1
            let tensorSeed = seed &* 1_000_003 &+ UInt64(index)
            tensors.append(SafetensorsWriter.Tensor(name: t.name, dtype: .f16, shape: t.shape, byteCount: 2 * count) { emit in
                var state = tensorSeed, noise = tensorSeed ^ 0x9E37_79B9_7F4A_7C15
                var chunk = [Float16](repeating: 0, count: 1 << 16)
                var done = 0
                while done < count {
                    let n = min(chunk.count, count - done)
                    for k in 0 ..< n {
                        state = state &* 6364136223846793005 &+ 1442695040888963407
                        let u = Float(Int32(truncatingIfNeeded: state >> 32)) / 2_147_483_648   // uniform in [-1, 1)
                        var value = isNorm ? 1 + 0.1 * u : 0.035 * u
                        if perturbation > 0 {
                            noise = noise &* 6364136223846793005 &+ 1442695040888963407
                            value += perturbation * 0.035 * Float(Int32(truncatingIfNeeded: noise >> 32)) / 2_147_483_648
                        }
                        chunk[k] = Float16(value)
                    }
                    chunk.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0 ..< 2 * n])) }
                    done += n
                }
            })
        }
        do { try SafetensorsWriter.write(tensors, to: weights) } catch { print("write failed: \(error)") }
    }

    /// Reads every byte of `paths` once through a map (the physical limit of a compare).
    static func readOnce(_ paths: [String]) {
        var total: UInt64 = 0
        for path in paths {
            guard let file = try? MappedFile(path: path) else { continue }
            let words = file.bytes.count / 8
            let base = file.bytes.baseAddress!
            var sum: UInt64 = 0
            for k in 0 ..< words { sum &+= base.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self) }
            total &+= sum
        }
        if total == 42 { print("") }
    }

    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
