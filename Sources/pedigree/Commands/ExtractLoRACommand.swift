import Foundation
import Pedigree

/// `pedigree extract-lora --base A --model B --rank R -o DIR [--save-whole] [--format text|json]`:
/// writes a PEFT adapter from the truncated SVD of B − A.
enum ExtractLoRACommand {
    static let usage = "usage: pedigree extract-lora --base A --model B --rank R -o DIR [--save-whole] [--format text|json]"
    static let spec = OptionSpec(flags: ["--help", "-h", "--save-whole"],
                                 valued: ["--base": nil, "--model": nil, "--rank": nil, "-o": nil, "--output": nil, "--format": ["text", "json"]])

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        let base: String, model: String, output: String, rank: Int
        do throws(UsageError) {
            parsed = try ParsedArguments(arguments, spec: spec)
            if parsed.flags.contains("--help") || parsed.flags.contains("-h") { Output.standardOutput(usage + "\n"); return 0 }
            guard parsed.positional.isEmpty else { throw UsageError("extract-lora takes no positional arguments") }
            guard let b = parsed.value("--base"), let m = parsed.value("--model") else { throw UsageError("extract-lora needs --base and --model") }
            guard let o = parsed.value("-o") ?? parsed.value("--output") else { throw UsageError("extract-lora needs -o DIR") }
            guard let text = parsed.value("--rank"), let r = Int(text), r > 0 else { throw UsageError("--rank must be a positive integer") }
            (base, model, output, rank) = (b, m, o, r)
        } catch { Output.usage(error, usage: usage) }
        let report: ExtractionReport
        do { report = try Pedigree.extractLoRA(base: base, model: model, rank: rank, saveWhole: parsed.flags.contains("--save-whole"), output: output) }
        catch { Output.fail(error) }
        if parsed.value("--format") == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(report)) ?? Data()
            Output.standardOutput(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            var out = "wrote \(output)/adapter_model.safetensors and adapter_config.json: r \(report.rank), lora_alpha \(report.loraAlpha), target_modules \(report.targetModules.joined(separator: ", "))\n"
            for m in report.modules {
                out += "  \(m.tensor): \(m.status)" + (m.detectedRank.map { ", rank \($0)" } ?? "") + (m.capturedEnergy.map { ", energy captured \($0)" } ?? "") + "\n"
            }
            if !report.notLowRank.isEmpty { out += "not low rank (not in the adapter; --save-whole saves them whole): \(report.notLowRank.joined(separator: ", "))\n" }
            if let check = report.roundTrip {
                out += "round trip: base + scale·B·A \(check.passed ? "reproduces" : "does not reproduce") the model (largest error \(check.maxErrorEpsilon) epsilons of its dtype, tolerance \(check.tolerance))\n"
            }
            Output.standardOutput(out)
        }
        return 0
    }
}
