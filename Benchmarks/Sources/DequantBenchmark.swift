import CPedigreeKernels
import Foundation
import PedigreeFormats

/// `PedigreeBenchmarks dequant [MiB] [chunk KiB]`: per ggml type, dequantization speed in input bytes per
/// second against a plain read of the same input bytes in the same run.
///
/// Each type decodes the same amount of input (default 64 MiB, past the last-level cache) in
/// chunks whose output (by default 16 Ki floats = 64 KiB, in L2; 16 KiB stays in L1) stays in
/// cache and is overwritten by the next chunk, so the figure is the decoder's, not the memory's. Inputs are real blocks: the
/// reference quantizers' output where one exists, else random bytes with normal scales.
enum DequantBenchmark {
    typealias Kernel = @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<Float>?, Int) -> Void
    typealias Quantize = @convention(c) (UnsafePointer<Float>?, UnsafeMutableRawPointer?, Int) -> Void

    struct Case {
        let name: String
        let kernel: Kernel
        var quantize: Quantize? = nil
        /// Byte offsets of fp16 scales to set to a normal value when the input is random.
        var scaleOffsets: [Int] = []
    }

    static let cases: [Case] = [
        Case(name: "F16", kernel: pdg_dequant_f16), Case(name: "BF16", kernel: pdg_dequant_bf16),
        Case(name: "Q8_0", kernel: pdg_dequant_q8_0, quantize: pdg_quantize_q8_0_ref),
        Case(name: "Q4_0", kernel: pdg_dequant_q4_0, quantize: pdg_quantize_q4_0_ref),
        Case(name: "Q4_1", kernel: pdg_dequant_q4_1, quantize: pdg_quantize_q4_1_ref),
        Case(name: "Q5_0", kernel: pdg_dequant_q5_0, quantize: pdg_quantize_q5_0_ref),
        Case(name: "Q5_1", kernel: pdg_dequant_q5_1, quantize: pdg_quantize_q5_1_ref),
        Case(name: "Q2_K", kernel: pdg_dequant_q2_k, quantize: pdg_quantize_q2_k_ref),
        Case(name: "Q3_K", kernel: pdg_dequant_q3_k, quantize: pdg_quantize_q3_k_ref),
        Case(name: "Q4_K", kernel: pdg_dequant_q4_k, quantize: pdg_quantize_q4_k_ref),
        Case(name: "Q5_K", kernel: pdg_dequant_q5_k, quantize: pdg_quantize_q5_k_ref),
        Case(name: "Q6_K", kernel: pdg_dequant_q6_k, quantize: pdg_quantize_q6_k_ref),
        Case(name: "IQ2_XXS", kernel: pdg_dequant_iq2_xxs, scaleOffsets: [0]),
        Case(name: "IQ2_XS", kernel: pdg_dequant_iq2_xs, scaleOffsets: [0]),
        Case(name: "IQ2_S", kernel: pdg_dequant_iq2_s, scaleOffsets: [0]),
        Case(name: "IQ3_XXS", kernel: pdg_dequant_iq3_xxs, scaleOffsets: [0]),
        Case(name: "IQ3_S", kernel: pdg_dequant_iq3_s, scaleOffsets: [0]),
        Case(name: "IQ1_S", kernel: pdg_dequant_iq1_s, scaleOffsets: [0]),
        Case(name: "IQ1_M", kernel: pdg_dequant_iq1_m),
        Case(name: "IQ4_NL", kernel: pdg_dequant_iq4_nl, scaleOffsets: [0]),
        Case(name: "IQ4_XS", kernel: pdg_dequant_iq4_xs, scaleOffsets: [0]),
        Case(name: "TQ1_0", kernel: pdg_dequant_tq1_0, scaleOffsets: [52]),
        Case(name: "TQ2_0", kernel: pdg_dequant_tq2_0, scaleOffsets: [64]),
        Case(name: "MXFP4", kernel: pdg_dequant_mxfp4),
        Case(name: "NVFP4", kernel: pdg_dequant_nvfp4),
    ]

    static func run(_ arguments: [String]) {
        let mib = arguments.first.flatMap(Int.init) ?? 64
        let inputBytes = mib << 20
        let chunkElements = (arguments.dropFirst().first.flatMap(Int.init) ?? 64) * 256
        let output = UnsafeMutablePointer<Float>.allocate(capacity: chunkElements)
        defer { output.deallocate() }
        print("dequantization, \(mib) MiB of input per type, output in \(chunkElements * 4 / 1024) KiB chunks; SIMD: \(pdg_dequant_uses_simd() != 0 ? "AVX2/F16C" : "none (scalar)")")
        print(pad("type", 9) + pad("read GB/s", 11, right: true) + pad("dequant GB/s", 14, right: true)
              + pad("ratio", 8, right: true) + pad("Gvalues/s", 11, right: true))
        for c in cases {
            guard let type = GGMLType.named(c.name) else { continue }
            let blocks = inputBytes / type.bytesPerBlock
            let bytes = blocks * type.bytesPerBlock
            let input = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer { input.deallocate() }
            fill(input, blocks: blocks, type: type, case: c)
            let blocksPerChunk = max(1, chunkElements / type.blockElements)
            let read = best(of: 5) { sink ^= readAll(input, bytes) }
            let decode = best(of: 5) {
                var b = 0
                while b < blocks {
                    let count = min(blocksPerChunk, blocks - b)
                    c.kernel(input + b * type.bytesPerBlock, output, count * type.blockElements)
                    sink ^= UInt64(output[0].bitPattern)
                    b += count
                }
            }
            let readRate = Double(bytes) / read / 1e9, decodeRate = Double(bytes) / decode / 1e9
            let values = Double(blocks * type.blockElements) / decode / 1e9
            print(pad(c.name, 9) + pad(String(format: "%.2f", readRate), 11, right: true)
                  + pad(String(format: "%.2f", decodeRate), 14, right: true)
                  + pad(String(format: "%.2fx", readRate / decodeRate), 8, right: true)
                  + pad(String(format: "%.2f", values), 11, right: true))
        }
        if sink == 0x5EED { print("") }   // keeps the reads observable
    }

    nonisolated(unsafe) static var sink: UInt64 = 0

    /// Real blocks: quantized random floats (one MiB, repeated) or random bytes with normal scales.
    static func fill(_ input: UnsafeMutableRawPointer, blocks: Int, type: GGMLType, case c: Case) {
        var rng = SystemRandomNumberGenerator()
        let bytes = blocks * type.bytesPerBlock
        if type.name == "F16" || type.name == "BF16" {
            let p = input.assumingMemoryBound(to: UInt16.self)
            for i in 0 ..< bytes / 2 {
                let f = Float.random(in: -0.1 ... 0.1, using: &rng)
                p[i] = type.name == "F16" ? pdg_f32_to_fp16(f) : pdg_f32_to_bf16(f)
            }
            return
        }
        if let quantize = c.quantize {
            let seedBlocks = min(blocks, max(1, (1 << 20) / type.bytesPerBlock))
            let floats = (0 ..< seedBlocks * type.blockElements).map { _ in Float.random(in: -0.05 ... 0.05, using: &rng) }
            floats.withUnsafeBufferPointer { quantize($0.baseAddress, input, floats.count) }
            let seedBytes = seedBlocks * type.bytesPerBlock
            var done = seedBytes
            while done < bytes {
                let n = min(seedBytes, bytes - done)
                (input + done).copyMemory(from: input, byteCount: n)
                done += n
            }
            return
        }
        let words = input.assumingMemoryBound(to: UInt8.self)
        for i in 0 ..< bytes { words[i] = UInt8.random(in: 0 ... 255, using: &rng) }
        for b in 0 ..< blocks {
            let blk = input + b * type.bytesPerBlock
            for offset in c.scaleOffsets { blk.storeBytes(of: pdg_f32_to_fp16(0.01).littleEndian, toByteOffset: offset, as: UInt16.self) }
            if type.name == "MXFP4" { blk.storeBytes(of: UInt8(120), as: UInt8.self) }
            if type.name == "NVFP4" { for s in 0 ..< 4 { blk.storeBytes(of: UInt8(0x30 + s), toByteOffset: s, as: UInt8.self) } }
        }
    }

    /// A plain read of every input byte (64 bytes per step, folded so the loads cannot be dropped).
    static func readAll(_ p: UnsafeRawPointer, _ bytes: Int) -> UInt64 {
        var acc = SIMD8<UInt64>(repeating: 0)
        var i = 0
        while i + 64 <= bytes {
            acc &+= p.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt64>.self)
            i += 64
        }
        return acc.wrappedSum()
    }

    /// The fastest of `runs` timings of `body`, in seconds.
    static func best(of runs: Int, _ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0 ..< runs {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return fastest
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
