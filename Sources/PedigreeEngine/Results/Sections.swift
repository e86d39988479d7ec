// The sections later capabilities add to a comparison (verdicts.md section 3: fields are added,
// never renamed). Each is defined by the judge that fills it:
// - `QuantizationReport` (Results/QuantizationReport.swift, filled by Judges/QuantizationJudge.swift)
// - `LoRAReport`, `MergeReport` (Deltas/LoRAReport.swift, Merges/MergeReport.swift)
// - `AlignmentReport` (Alignment/AlignmentReport.swift)

