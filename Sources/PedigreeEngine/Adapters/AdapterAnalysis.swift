import Foundation
import PedigreeFormats

/// PEFT adapters against a base: what an adapter adapts (compare BASE ADAPTER), and whether a
/// merged model is exactly its base plus the adapter's update (compare BASE MERGED --adapter A).
///
/// What it shows: that the adapter's modules fit the base by name and shape, and, with a merged
/// model, that every merged value equals base + scale·B·A to the merged dtype's rounding. It cannot
/// show that the adapter was trained on that base (an adapter fits any model of the same shapes).
public enum AdapterAnalysis {
    /// Errors up to this many epsilons of the merged dtype (at the tensor's scale) pass the check:
    /// rounding alone gives 0.5; an adapter re-extracted by a truncated SVD stays below it too.
    public static let toleranceEpsilon = 1.0

    struct Resolved {
        var summary: AdapterSummary
        var findings: [Finding]
        /// Base tensor name -> (module, ΔW in the base weight's layout).
        var deltas: [String: (module: String, delta: FloatMatrix)]
    }

    /// Matches the adapter's modules to the base's tensors and computes each ΔW.
    static func resolve(adapter: Model, base: Model, side: String?) -> Resolved {
        let peft = PEFTAdapter(adapter)
        var findings = [Finding]()
        let family = TensorPairing.family(of: base)
        var index = [String: TensorInfo]()
        for t in base.tensors {
            let key = NameMapping.pairingKey(t.name, format: base.format, family: family)
            if index[key] == nil { index[key] = t }
        }
        var modules = [AdapterModule]()
        var unmatched = [String]()
        var deltas = [String: (module: String, delta: FloatMatrix)]()
        for m in peft.modules {
            let (rank, alpha, scale) = peft.scaling(for: m.path)
            var record = AdapterModule(module: m.path, baseTensor: nil, rank: m.a?.shape.first ?? rank, alpha: alpha,
                                       scaling: Numbers.significant(scale, digits: 6), status: "matched", relL2: nil)
            let keys = [m.a?.name, m.b?.name].compactMap { $0 }
            guard let ta = m.a, let tb = m.b, ta.shape.count == 2, tb.shape.count == 2 else {
                record.status = "incomplete"
                findings.append(Finding(.warning, "adapter-incomplete", tensor: keys.first,
                                        "module \(m.path) has \(m.a == nil ? "no lora_A" : "no lora_B") factor: it cannot be applied"))
                modules.append(record)
                continue
            }
            guard let w = index[PEFTAdapter.baseKey(m.path)] else {
                record.status = "no-base-tensor"
                unmatched += keys
                findings.append(Finding(.warning, "adapter-key-unmatched", tensor: ta.name,
                                        "adapter module \(m.path) matches no tensor of the base: loading it would silently drop the update, not apply a zero one"))
                modules.append(record)
                continue
            }
            record.baseTensor = w.name
            let r = ta.shape[0]
            if r != rank {
                findings.append(Finding(.info, "adapter-rank-differs", tensor: ta.name,
                                        "lora_A of \(m.path) has \(r) rows; the config gives rank \(rank) (scaling uses the config's value)"))
            }
            record.rank = r
            // Expected layout of ΔW: [out, in] = B[out, r]·A[r, in]; transposed for fan_in_fan_out and embeddings.
            let transpose = m.embedding || peft.fanInFanOut
            let product = [tb.shape[0], ta.shape[1]]
            let expected = transpose ? [product[1], product[0]] : product
            guard tb.shape[1] == r, w.shape == expected else {
                record.status = "shape-mismatch"
                findings.append(Finding(.warning, "adapter-shape-mismatch", tensor: ta.name,
                                        "module \(m.path): B·A gives \(expected), the base tensor \(w.name) has \(w.shape)"))
                modules.append(record)
                continue
            }
            do throws(ReadError) {
                let fa = try FloatMatrix.load(adapter, ta), fb = try FloatMatrix.load(adapter, tb)
                let delta = PEFTAdapter.delta(a: fa, b: fb, scale: Float(scale), transpose: transpose)
                let wm = try FloatMatrix.load(base, w)
                let d2 = delta.values.reduce(0.0) { $0 + Double($1) * Double($1) }
                let w2 = wm.values.reduce(0.0) { $0 + Double($1) * Double($1) }
                record.relL2 = Numbers.significant(w2 > 0 ? (d2 / w2).squareRoot() : 0, digits: 5)
                if d2 == 0 {
                    findings.append(Finding(.info, "adapter-zero-update", tensor: tb.name, "module \(m.path): B·A is zero (an untrained adapter)"))
                }
                deltas[w.name] = (m.path, delta)
            } catch {
                record.status = "incomplete"
                findings.append(Finding(.warning, "not-decoded", tensor: ta.name, error.message))
            }
            modules.append(record)
        }
        for key in peft.otherKeys {
            findings.append(Finding(.info, "adapter-extra-key", tensor: key,
                                    "\(key) is not a LoRA factor (modules_to_save, DoRA magnitude or bias): not analysed"))
        }
        if peft.useDora {
            findings.append(Finding(.warning, "adapter-dora", "the adapter uses DoRA: its magnitude vectors rescale the merged weight, which this analysis does not apply"))
        }
        let summary = AdapterSummary(path: adapter.path, side: side, peftType: peft.peftType, baseModel: peft.baseModel, r: peft.r,
                                     loraAlpha: peft.loraAlpha, scaling: Numbers.significant(peft.scaling(for: "").scaling, digits: 6),
                                     useRslora: peft.useRslora, fanInFanOut: peft.fanInFanOut, targetModules: peft.targetModules,
                                     modules: modules, unmatchedKeys: unmatched)
        return Resolved(summary: summary, findings: findings, deltas: deltas)
    }

    /// `compare BASE ADAPTER` (or ADAPTER BASE): the adapter's rank, targets and scale, and every
    /// key that fits no base tensor. The relation is `lora` with the base as parent when the
    /// adapter's modules fit the base, `inconclusive` when none does.
    public static func compare(_ a: Model, _ b: Model, options: CompareOptions = CompareOptions()) -> Comparison {
        let adapterSide = b.isAdapter ? "b" : "a"
        let adapter = adapterSide == "b" ? b : a, base = adapterSide == "b" ? a : b
        let baseSide = adapterSide == "b" ? "a" : "b"
        let resolved = resolve(adapter: adapter, base: base, side: adapterSide)
        let s = resolved.summary
        let matched = s.modules.filter { $0.status == "matched" }
        let moduleNames = orderedUnique(matched.map { DeltaAnalysis.moduleName($0.module) })
        var evidence = [String]()
        for m in matched {
            evidence.append("\(m.module) -> \(m.baseTensor ?? "?"): rank \(m.rank), scaling \(m.scaling)" + (m.relL2.map { ", ||ΔW||/||W|| \($0)" } ?? ""))
        }
        evidence.append("an adapter fits any model with these tensor names and shapes: this shows compatibility, not that it was trained on this base")
        let verdict: Verdict
        let scale = s.useRslora ? "alpha/sqrt(r)" : "alpha/r"
        if matched.isEmpty {
            verdict = Verdict(relation: .inconclusive, log10PValue: nil, alpha: options.alpha, method: "adapter",
                              summary: "\(adapterSide) is a PEFT adapter whose \(s.modules.count) modules fit no tensor of \(baseSide)", evidence: evidence)
        } else {
            var summary = "\(adapterSide) is a PEFT LoRA adapter for \(baseSide): rank \(s.r), lora_alpha \(Format2.number(s.loraAlpha)), scaling \(scale) = \(Format2.number(s.scaling)), \(matched.count) modules (\(moduleNames.joined(separator: ", "))) fit \(baseSide)'s tensors"
            if !s.unmatchedKeys.isEmpty { summary += "; \(s.unmatchedKeys.count) adapter keys match no tensor of \(baseSide)" }
            verdict = Verdict(relation: .lora, parent: baseSide, log10PValue: nil, alpha: options.alpha, method: "adapter",
                              summary: summary, evidence: evidence)
        }
        var byModule = [String: (tensors: Int, rank: Int, rel: Double, order: Int)]()
        for m in matched {
            let name = DeltaAnalysis.moduleName(m.module)
            var e = byModule[name] ?? (0, 0, 0, byModule.count)
            e.tensors += 1
            e.rank = max(e.rank, m.rank)
            e.rel = max(e.rel, m.relL2 ?? 0)
            byModule[name] = e
        }
        let modules = byModule.sorted { $0.value.order < $1.value.order }.map {
            ModuleDelta(module: $0.key, tensors: $0.value.tensors, changed: $0.value.tensors, lowRank: $0.value.tensors,
                        rank: $0.value.rank, relL2: $0.value.rel, energyShare: 0)
        }
        let report = LoRAReport(classification: "adapter", rank: matched.map(\.rank).max(), targets: moduleNames,
                                untouchedUnchanged: nil, bitIdenticalTensors: 0, convertedTensors: 0, changedTensors: matched.count,
                                modules: modules, tensors: [], direction: nil, adapter: s, check: nil)
        return Comparison(a: ModelSummary(a), b: ModelSummary(b), verdict: verdict, tensors: [], blocks: [],
                          findings: resolved.findings, quantization: nil, lora: report, merge: nil, alignment: nil)
    }

    /// Checks MERGED == BASE + scale·B·A tensor by tensor, in epsilons of MERGED's dtype at each
    /// tensor's scale (AdapterCheck).
    public static func check(base: Model, merged: Model, adapter: Model) -> (AdapterCheck, AdapterSummary, [Finding]) {
        let resolved = resolve(adapter: adapter, base: base, side: nil)
        var findings = resolved.findings
        let pairing = TensorPairing.pair(base, merged)
        var rows = [AdapterCheckTensor]()
        var maxTarget = 0.0, maxOther = 0.0, maxUlps = 0.0, others = 0
        var checked = Set<String>()
        for pair in pairing.pairs {
            guard let fm = pair.b.type.floatFormat, pair.a.type.floatFormat != nil, pair.a.shape == pair.b.shape else { continue }
            let w: FloatMatrix, m: FloatMatrix
            do throws(ReadError) {
                w = try FloatMatrix.load(base, pair.a, map: pair.rowMapA)
                m = try FloatMatrix.load(merged, pair.b, map: pair.rowMapB)
            } catch { continue }
            let delta = resolved.deltas[pair.a.name]?.delta
            var worstUlps = 0.0, worstAbs = 0.0, scale = 0.0
            for i in 0 ..< w.count {
                let e = w.values[i] + (delta?.values[i] ?? 0)
                let err = Double(Swift.abs(m.values[i] - e))
                scale = max(scale, Double(Swift.abs(m.values[i])))
                if err > worstAbs { worstAbs = err }
                let ulps = err / Spectrum.ulp(e, format: fm)
                if ulps > worstUlps { worstUlps = ulps }
            }
            let inEpsilon = worstAbs == 0 ? 0 : worstAbs / (epsilon(fm) * max(scale, Double(Float.leastNormalMagnitude)))
            if delta != nil {
                checked.insert(pair.a.name)
                maxTarget = max(maxTarget, inEpsilon)
                maxUlps = max(maxUlps, worstUlps)
                rows.append(AdapterCheckTensor(tensor: pair.b.name, dtype: pair.b.type.name, maxErrorEpsilon: Numbers.significant(inEpsilon, digits: 4),
                                               maxErrorUlps: Numbers.significant(worstUlps, digits: 4), maxAbsError: Numbers.significant(worstAbs, digits: 4)))
            } else {
                others += 1
                maxOther = max(maxOther, inEpsilon)
            }
        }
        let missing = resolved.deltas.keys.filter { !checked.contains($0) }.count
            + resolved.summary.modules.filter { $0.status != "matched" }.count
        let passed = !rows.isEmpty && missing == 0 && maxTarget <= toleranceEpsilon && maxOther <= toleranceEpsilon
        if !passed {
            findings.append(Finding(.warning, "adapter-check-failed",
                String(format: "b is not a + scale·B·A: largest error %.3g epsilons on the adapted tensors, %.3g elsewhere (tolerance %.1f)%@",
                       maxTarget, maxOther, toleranceEpsilon, missing > 0 ? ", \(missing) adapter modules not checked" : "")))
        }
        let check = AdapterCheck(passed: passed, tolerance: toleranceEpsilon, maxErrorEpsilon: Numbers.significant(maxTarget, digits: 4),
                                 untouchedMaxErrorEpsilon: Numbers.significant(maxOther, digits: 4),
                                 maxErrorUlps: Numbers.significant(maxUlps, digits: 4), tensors: rows,
                                 untouchedTensors: others, unmatchedModules: missing)
        return (check, resolved.summary, findings)
    }

    /// Machine epsilon of a float format.
    static func epsilon(_ f: FloatFormat) -> Double {
        switch f {
        case .f16: 0x1p-10
        case .bf16: 0x1p-7
        case .f32: 0x1p-23
        case .f64: 0x1p-52
        }
    }

    /// `compare BASE MERGED --adapter ADAPTER`: the ordinary comparison, with the adapter check;
    /// when the check passes the relation is `lora` with BASE as the parent.
    public static func compare(base: Model, merged: Model, adapter: Model, options: CompareOptions = CompareOptions()) -> Comparison {
        var comparison = Comparator.compare(base, merged, options: options)
        let (check, summary, findings) = AdapterAnalysis.check(base: base, merged: merged, adapter: adapter)
        comparison.findings += findings
        var report = comparison.lora ?? LoRAReport(classification: "adapter", rank: summary.modules.map(\.rank).max(),
                                                   targets: orderedUnique(summary.modules.map { DeltaAnalysis.moduleName($0.module) }),
                                                   untouchedUnchanged: nil, bitIdenticalTensors: 0, convertedTensors: 0, changedTensors: 0,
                                                   modules: [], tensors: [], direction: nil, adapter: nil, check: nil)
        report.adapter = summary
        report.check = check
        comparison.lora = report
        let line = String(format: "adapter check: b %@ a + scale·B·A on %d tensors (largest error %.3g epsilons of %@ at each tensor's scale; other tensors within %.3g; tolerance %.1f)",
                          check.passed ? "equals" : "does not equal", check.tensors.count, check.maxErrorEpsilon,
                          check.tensors.first?.dtype ?? "-", check.untouchedMaxErrorEpsilon, check.tolerance)
        let v = comparison.verdict
        if check.passed {
            comparison.verdict = Verdict(relation: .lora, parent: "a", log10PValue: v.log10PValue, alpha: v.alpha, method: v.method,
                                         summary: "b is a with the adapter \(adapter.path) merged (scale \(Format2.number(summary.scaling))): every value matches to the rounding of b's dtype, so a is the parent",
                                         evidence: [line] + v.evidence)
        } else {
            comparison.verdict.evidence.insert(line, at: 0)
        }
        return comparison
    }

    static func orderedUnique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}

/// Short number text for summaries (no trailing zeros).
enum Format2 {
    static func number(_ x: Double) -> String {
        x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : String(format: "%.4g", x)
    }
}
