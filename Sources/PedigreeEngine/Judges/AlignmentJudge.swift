/// `permuted`: equal after a permutation of hidden units (placeholder: the alignment lands with
/// its own issue).
enum AlignmentJudge {
    static func permuted(_ context: JudgeContext, _ base: Judgement) -> Judgement? { nil }
}
