import Foundation
import PedigreeFormats

/// Paths of the shared fixtures (`../shared/fixtures` beside the repository), for the delta,
/// adapter and merge tests, and small temporary models written with SafetensorsWriter.
enum DeltaFixtures {
    static let root: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func open(_ relative: String) throws -> Model { try Model.open(path(relative)) }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-delta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Writes F32 tensors to `<folder>/model.safetensors` and opens it.
    static func model(_ tensors: [(String, [Int], [Float])], in folder: String? = nil) throws -> Model {
        let dir = try folder ?? temporaryFolder()
        let list = tensors.map { name, shape, values in
            SafetensorsWriter.Tensor(name: name, dtype: .f32, shape: shape,
                                     data: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
        }
        try SafetensorsWriter.write(list, to: dir + "/model.safetensors")
        return try Model.open(dir + "/model.safetensors")
    }
}

/// Seeded standard normal values (SplitMix64 + Box-Muller), for planted test matrices.
struct TestNormals {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (Double((z ^ (z >> 31)) >> 11) + 0.5) / 9_007_199_254_740_992.0
    }
    mutating func next() -> Float {
        Float((-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()))
    }
    mutating func values(_ n: Int, scale: Float = 1) -> [Float] { (0 ..< n).map { _ in next() * scale } }
}
