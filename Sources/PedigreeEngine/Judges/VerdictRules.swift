import PedigreeFormats

/// Runs the judges in the order of verdicts.md section 1; the first that decides wins.
///
/// Exact relations come first (identical, conversion, quantized), then the independence test
/// (derived, related, unrelated, inconclusive). The refinements split a `derived` or `related`
/// verdict into what happened (lora, permuted, finetune), in the table's order; each sees the
/// independence judge's verdict and returns nil when its relation does not hold.
enum VerdictRules {
    typealias Refinement = @Sendable (JudgeContext, Judgement) -> Judgement?

    static let refinements: [Refinement] = [DeltaJudge.lora, AlignmentJudge.permuted, DeltaJudge.finetune]

    static func judge(a: Model, b: Model, pairing: Pairing, outcomes: [PairOutcome],
                      joint: PermutationStatistic?, alpha: Double) -> Judgement {
        var context = JudgeContext(a: a, b: b, pairing: pairing, outcomes: outcomes, joint: joint, alpha: alpha)
        if let judgement = ExactJudge.identical(context) ?? ExactJudge.conversion(context) ?? QuantizationJudge.judge(&context)
            ?? PackedQuantizationJudge.judge(&context) {
            return judgement
        }
        var independent = IndependenceJudge.judge(context)
        independent.quantization = independent.quantization ?? context.quantization
        // A copy whose residual stream was permuted hides from the test: look for that permutation.
        if independent.verdict.relation == .unrelated, let residual = AlignmentJudge.residual(context, independent) { return residual }
        guard independent.verdict.relation == .derived || independent.verdict.relation == .related else { return independent }
        // One side block-quantized but not from the other: quantization plus another change is
        // several steps, so `derived` (verdicts.md 1); the deltas carry the quantization noise.
        if context.quantization != nil { return independent }
        for refine in refinements {
            if var refined = refine(context, independent) {
                refined.quantization = refined.quantization ?? context.quantization
                return refined
            }
        }
        return independent
    }
}
