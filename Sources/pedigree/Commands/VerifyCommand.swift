import Pedigree

/// `pedigree verify MODEL [--claimed-base BASE] [--models FILE] [--format text|json] [--alpha A]`:
/// checks a model's lineage claims against its weights. Exit 0 supported, 1 contradicted or
/// inconclusive, 2 input error, 64 usage error.
enum VerifyCommand {
    static let usage = "usage: pedigree verify MODEL [--claimed-base ID_OR_PATH] [--models FILE] [--format text|json] [--alpha 0.01]"
    static let spec = OptionSpec(flags: ["--help", "-h"],
                                 valued: ["--format": ["text", "json"], "--alpha": nil, "--claimed-base": nil, "--models": nil])

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        var options = VerifyOptions()
        do throws(UsageError) {
            parsed = try ParsedArguments(arguments, spec: spec)
            if parsed.flags.contains("--help") || parsed.flags.contains("-h") { Output.standardOutput(usage + "\n"); return 0 }
            guard parsed.positional.count == 1 else { throw UsageError("verify needs one model") }
            if let text = parsed.value("--alpha") {
                guard let alpha = Double(text), alpha > 0, alpha < 1 else { throw UsageError("--alpha must be a number between 0 and 1") }
                options.alpha = alpha
            }
            if let base = parsed.value("--claimed-base") {
                guard !base.isEmpty else { throw UsageError("--claimed-base needs a model id or path") }
                options.claimedBase = base
            }
        } catch { Output.usage(error, usage: usage) }
        let verification: Verification
        do {
            if let file = parsed.value("--models") { options.registry = try Pedigree.loadModels(file) }
            verification = try Pedigree.verify(parsed.positional[0], options: options)
        } catch { Output.fail(error) }
        if parsed.value("--format") == "json" {
            Output.standardOutput(JSONRenderer.render(verification))
        } else {
            let (text, warnings) = VerifyTextRenderer.render(verification)
            Output.standardOutput(text)
            for warning in warnings { Output.standardError("pedigree: \(warning)") }
        }
        return verification.result == .supported ? 0 : 1
    }
}
