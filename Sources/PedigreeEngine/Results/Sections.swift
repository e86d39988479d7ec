// The sections later capabilities add to a comparison (verdicts.md section 3: fields are added,
// never renamed). Each is defined by the judge that fills it:
// - `QuantizationReport` (Judges/QuantizationJudge.swift and its report file)
// - `LoRAReport`, `MergeReport` (Deltas/LoRAReport.swift, Merges/MergeReport.swift)
// - `AlignmentReport` (Alignment/AlignmentReport.swift)

/// What the quantization analysis found (placeholder until its issue lands).
public struct QuantizationReport: Codable, Sendable, Equatable {}
