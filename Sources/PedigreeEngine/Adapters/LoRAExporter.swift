import Foundation
import PedigreeFormats

/// What `extract-lora` wrote (`pedigree.extract-lora/1`).
public struct ExtractionReport: Codable, Sendable, Equatable {
    public var schema = "pedigree.extract-lora/1"
    public var tool = ToolInfo()
    public var base: String
    public var model: String
    public var output: String
    public var rank: Int
    public var loraAlpha: Int
    public var targetModules: [String]
    public var modules: [ExtractedModule]
    /// Changed tensors that are not low rank at `rank` (listed; saved whole with `saveWhole`).
    public var notLowRank: [String]
    public var savedWhole: [String]
    /// The check of the written adapter: model == base + scale·B·A (AdapterCheck).
    public var roundTrip: AdapterCheck?
}

public struct ExtractedModule: Codable, Sendable, Equatable {
    public var tensor: String
    /// `exported`, `saved-whole`, `not-low-rank`.
    public var status: String
    /// The rank the delta's spectrum shows (its spectral gap), if low rank.
    public var detectedRank: Int?
    /// Share of ||ΔW||² the exported rank-`rank` factors hold.
    public var capturedEnergy: Double?
}

/// Writes a PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json) from the
/// truncated SVD of the deltas between a base and a model: ΔW ≈ U_r S_r V_rᵀ, saved as
/// lora_B = U_r·sqrt(S_r), lora_A = sqrt(S_r)·V_rᵀ with lora_alpha = r (scaling 1).
public enum LoRAExporter {
    public struct Options: Sendable {
        public var rank: Int
        /// Save changed tensors that are not low rank whole (PEFT `modules_to_save`) instead of listing them.
        public var saveWhole: Bool
        public init(rank: Int, saveWhole: Bool = false) { self.rank = rank; self.saveWhole = saveWhole }
    }

    /// - Throws: `ReadError` for unreadable inputs, and `write-failed` when the folder or a file
    ///   cannot be written (nothing half-written is left: the writer renames complete files only).
    public static func extract(base: Model, model: Model, options: Options, to directory: String) throws(ReadError) -> ExtractionReport {
        let pairing = TensorPairing.pair(base, model)
        var tensors = [SafetensorsWriter.Tensor]()
        var modules = [ExtractedModule]()
        var notLow = [String](), whole = [String]()
        var exportedPaths = [String]()
        for pair in pairing.pairs where pair.a.shape == pair.b.shape && pair.a.type.floatFormat != nil && pair.b.type.floatFormat != nil {
            let (record, _) = DeltaAnalysis.analysePair(pair, base, model, intruders: false)
            switch record.status {
            case "bit-identical", "converted": continue
            case "not-decoded": throw ReadError(path: model.path, code: .unsupportedType, message: "tensor \(pair.b.name) cannot be decoded")
            default: break
            }
            let name = pair.a.name
            let path = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
            if record.status == "low-rank", pair.kind == .matrix, let s = record.spectrum, s.gapRank <= options.rank {
                let wa = try FloatMatrix.load(base, pair.a, map: pair.rowMapA), wb = try FloatMatrix.load(model, pair.b, map: pair.rowMapB)
                let delta = FloatMatrix(rows: wa.rows, columns: wa.columns, values: zip(wb.values, wa.values).map { $0 - $1 })
                let svd = RandomizedSVD.decompose(delta, rank: options.rank, powerIterations: 3)
                let r = svd.rank
                var a = FloatMatrix(rows: options.rank, columns: delta.columns), b = FloatMatrix(rows: delta.rows, columns: options.rank)
                for j in 0 ..< r {
                    let root = svd.singularValues[j].squareRoot()
                    for i in 0 ..< delta.rows { b[i, j] = svd.u[i, j] * root }
                    for c in 0 ..< delta.columns { a[j, c] = svd.vt[j, c] * root }
                }
                let energy = delta.values.reduce(0.0) { $0 + Double($1) * Double($1) }
                let captured = svd.singularValues.reduce(0.0) { $0 + Double($1) * Double($1) }
                tensors.append(floatTensor("base_model.model.\(path).lora_A.weight", a))
                tensors.append(floatTensor("base_model.model.\(path).lora_B.weight", b))
                exportedPaths.append(path)
                modules.append(ExtractedModule(tensor: name, status: "exported", detectedRank: s.gapRank,
                                               capturedEnergy: Numbers.significant(energy > 0 ? min(captured / energy, 1) : 1, digits: 6)))
            } else if options.saveWhole {
                let wb = try FloatMatrix.load(model, pair.b, map: pair.rowMapB)
                tensors.append(floatTensor("base_model.model.\(name)", wb, shape: pair.b.shape))
                whole.append(name)
                modules.append(ExtractedModule(tensor: name, status: "saved-whole", detectedRank: nil, capturedEnergy: nil))
            } else {
                notLow.append(name)
                modules.append(ExtractedModule(tensor: name, status: "not-low-rank", detectedRank: record.spectrum?.gapRank, capturedEnergy: nil))
            }
        }
        let targets = targetModules(exportedPaths, base: base)
        var config = "{\n"
        let wholeModules = whole.map { $0.hasSuffix(".weight") || $0.hasSuffix(".bias") ? String($0[..<$0.lastIndex(of: ".")!]) : $0 }
        let fields: [(String, String)] = [
            ("alpha_pattern", "{}"),
            ("base_model_name_or_path", JSONWriter.quoted(base.path)),
            ("bias", "\"none\""),
            ("fan_in_fan_out", "false"),
            ("inference_mode", "true"),
            ("lora_alpha", "\(options.rank)"),
            ("lora_dropout", "0.0"),
            ("modules_to_save", wholeModules.isEmpty ? "null" : "[" + AdapterAnalysis.orderedUnique(wholeModules).map(JSONWriter.quoted).joined(separator: ", ") + "]"),
            ("peft_type", "\"LORA\""),
            ("r", "\(options.rank)"),
            ("rank_pattern", "{}"),
            ("target_modules", "[" + targets.map(JSONWriter.quoted).joined(separator: ", ") + "]"),
            ("task_type", "null"),
            ("use_dora", "false"),
            ("use_rslora", "false"),
        ]
        config += fields.map { "  \(JSONWriter.quoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw ReadError(path: directory, code: ReadError.Code("write-failed"), message: "cannot create the output folder")
            }
        } else if !isDirectory.boolValue {
            throw ReadError(path: directory, code: ReadError.Code("write-failed"), message: "the output path exists and is not a folder")
        }
        do throws(SafetensorsWriteError) {
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: (directory as NSString).appendingPathComponent("adapter_model.safetensors"))
        } catch {
            throw ReadError(path: error.path, code: ReadError.Code(error.code.rawValue), message: error.message)
        }
        guard FileManager.default.createFile(atPath: (directory as NSString).appendingPathComponent("adapter_config.json"), contents: Data(config.utf8)) else {
            throw ReadError(path: (directory as NSString).appendingPathComponent("adapter_config.json"), code: ReadError.Code("write-failed"), message: "cannot write the adapter config")
        }
        var report = ExtractionReport(base: base.path, model: model.path, output: directory, rank: options.rank, loraAlpha: options.rank,
                                      targetModules: targets, modules: modules, notLowRank: notLow, savedWhole: whole, roundTrip: nil)
        if !exportedPaths.isEmpty, let adapter = try? Model.open(directory) {
            report.roundTrip = AdapterAnalysis.check(base: base, merged: model, adapter: adapter).0
        }
        return report
    }

    static func floatTensor(_ name: String, _ m: FloatMatrix, shape: [Int]? = nil) -> SafetensorsWriter.Tensor {
        var bytes = [UInt8]()
        bytes.reserveCapacity(m.count * 4)
        for v in m.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return SafetensorsWriter.Tensor(name: name, dtype: .f32, shape: shape ?? [m.rows, m.columns], data: bytes)
    }

    /// Short module names (`query`) when each selects exactly the exported modules under PEFT's
    /// suffix match; otherwise the full paths.
    static func targetModules(_ paths: [String], base: Model) -> [String] {
        let all = base.tensors.filter { $0.shape.count == 2 }.map { $0.name.hasSuffix(".weight") ? String($0.name.dropLast(7)) : $0.name }
        let exported = Set(paths)
        let short = AdapterAnalysis.orderedUnique(paths.map { String($0.split(separator: ".").last ?? "") })
        let selects = { (target: String) in all.filter { $0 == target || $0.hasSuffix("." + target) } }
        if short.allSatisfy({ selects($0).allSatisfy(exported.contains) }) { return short.sorted() }
        return paths.sorted()
    }
}
