import PedigreeFormats

/// Runs the judges in the order of verdicts.md section 1; the first that decides wins.
///
/// Exact relations come first (identical, conversion, quantized), then the independence test
/// (derived, related, unrelated, inconclusive). Judges that split `derived` (lora, merge,
/// permuted, finetune) refine its verdict.
enum VerdictRules {
    static func judge(a: Model, b: Model, pairing: Pairing, outcomes: [PairOutcome],
                      joint: PermutationStatistic?, alpha: Double) -> Judgement {
        var context = JudgeContext(a: a, b: b, pairing: pairing, outcomes: outcomes, joint: joint, alpha: alpha)
        if let judgement = ExactJudge.identical(context) ?? ExactJudge.conversion(context) ?? QuantizationJudge.judge(&context) {
            return judgement
        }
        return IndependenceJudge.judge(context)
    }
}
