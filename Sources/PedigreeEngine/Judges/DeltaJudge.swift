/// `lora` and `finetune`: what the weight differences of a descendant look like
/// (placeholder: the delta analysis lands with its own issue).
enum DeltaJudge {
    /// A low-rank update on a subset of modules, every other tensor unchanged.
    static func lora(_ context: JudgeContext, _ base: Judgement) -> Judgement? { nil }
    /// A dense update of most tensors, small next to the weights.
    static func finetune(_ context: JudgeContext, _ base: Judgement) -> Judgement? { nil }
}
