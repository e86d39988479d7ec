import CPedigreeKernels
import Foundation
import PedigreeFormats

/// Reads the weight differences of two related models: per tensor pair whether it is
/// bit-identical, equal up to a dtype conversion, or changed, and for changed matrices the
/// singular spectrum of ΔW = W_b − W_a (randomized SVD), intruder dimensions and kurtosis; then a
/// summary per module and the classification `lora` / `finetune` (verdicts.md section 1).
///
/// What it does not prove: a low-rank delta shows the *form* of an update (a merged adapter, or any
/// other low-rank edit), not which training produced it.
public enum DeltaAnalysis {
    /// Singular values sketched per delta (the largest adapter rank it can see is one less).
    public static let sketchRank = 64
    /// Top singular vectors of each side checked for intruder dimensions, and the cosine below
    /// which one is an intruder.
    static let intruderTop = 10
    static let intruderCosine: Float = 0.5
    /// `finetune` needs the median delta structure (SpectrumSummary.structure) at least this:
    /// measured on the fixtures, trained deltas give 2.1-5.6 per matrix (median 2.4 BERT, 4.0
    /// llama), Q4_0 round-trip noise 1.0-1.9 (median 1.4).
    static let finetuneStructure = 2.0
    /// Budget of `analyse` for large models: the changed matrices whose spectrum is sketched (evenly
    /// spaced in file order; the others count as changed, unsampled), the values per matrix (rows
    /// sampled regularly, at least `2 × sketchRank` of them), and the matrices checked for intruders.
    /// A sampled row subset of a rank-r delta has rank at most r, so low rank stays visible.
    public static let maxSketchedMatrices = 16
    public static let maxSketchedValues = 1 << 19
    static let maxIntruderMatrices = 2

    /// Analyses every pair of `pairs` (a's side first). With the streamed `measures` of the same
    /// pairs (compare's pass), identical and converted tensors are settled without reading them
    /// again, energies are exact, and only a budget of the changed matrices is sketched.
    public static func analyse(_ a: Model, _ b: Model, pairs: [TensorPair], measures: [PairMeasures?]? = nil) -> LoRAReport {
        var tensors = [TensorDelta]()
        var sums = [String: (tensors: Int, changed: Int, low: Int, rank: Int?, delta: Double, base: Double, order: Int)]()
        var totalDelta = 0.0
        var dotAD = 0.0, lowEnergy = 0.0
        var kurtosisLower = 0, kurtosisCompared = 0
        let streamed: [PairMeasures?] = measures.map { $0.count == pairs.count ? $0 : [] } ?? []
        // Which changed matrices get a sketched spectrum (and which of those intruder checks).
        var candidates = [Int]()
        for (i, pair) in pairs.enumerated() where pair.a.shape.count == 2 {
            if let m = streamed.isEmpty ? nil : streamed[i], settled(m) != nil { continue }
            candidates.append(i)
        }
        let sketchedList = evenlySpaced(candidates, count: maxSketchedMatrices)
        let sketched = Set(sketchedList)
        let intruderChecked = Set(evenlySpaced(sketchedList, count: maxIntruderMatrices))
        let read = pairs.indices.filter { i in
            if !streamed.isEmpty, let stream = streamed[i], settled(stream) != nil { return false }
            return streamed.isEmpty || sketched.contains(i) || pairs[i].a.shape.count != 2
        }
        let analysed = ParallelMap.run(read) { i in
            analysePair(pairs[i], a, b, intruders: streamed.isEmpty || intruderChecked.contains(i),
                        valueLimit: streamed.isEmpty ? nil : maxSketchedValues)
        }
        for (i, pair) in pairs.enumerated() {
            let stream = streamed.isEmpty ? nil : streamed[i]
            let (record, stats): (TensorDelta, PairStats)
            if let stream, let status = settled(stream) {
                (record, stats) = settledRecord(pair, status: status)
            } else if let done = analysed[i] {
                var (r, st) = done
                if let stream { exact(stream, into: &r, &st) }
                (record, stats) = (r, st)
            } else {
                var (r, st) = settledRecord(pair, status: "changed")
                exact(stream!, into: &r, &st)
                (record, stats) = (r, st)
            }
            tensors.append(record)
            let key = record.module
            var entry = sums[key] ?? (0, 0, 0, nil, 0, 0, sums.count)
            entry.tensors += 1
            if record.status != "bit-identical" && record.status != "converted" && record.status != "not-decoded" {
                entry.changed += 1
                entry.delta += stats.deltaEnergy
                totalDelta += stats.deltaEnergy
            }
            entry.base += stats.baseEnergy
            if record.status == "low-rank", let s = record.spectrum {
                entry.low += 1
                entry.rank = max(entry.rank ?? 0, s.gapRank)
                dotAD += stats.dotAD
                lowEnergy += stats.deltaEnergy
            }
            if record.kind == .matrix, let ka = record.kurtosisA, let kb = record.kurtosisB {
                kurtosisCompared += 1
                if kb < ka { kurtosisLower += 1 }
            }
            sums[key] = entry
        }
        let modules = sums.sorted { $0.value.order < $1.value.order }.map { name, e in
            ModuleDelta(module: name, tensors: e.tensors, changed: e.changed, lowRank: e.low, rank: e.rank,
                        relL2: Numbers.significant(e.base > 0 ? (e.delta / e.base).squareRoot() : 0, digits: 5),
                        energyShare: Numbers.significant(totalDelta > 0 ? e.delta / totalDelta : 0, digits: 4))
        }
        let bitIdentical = tensors.filter { $0.status == "bit-identical" }.count
        let converted = tensors.filter { $0.status == "converted" }.count
        let changed = tensors.filter { ["low-rank", "full-rank", "changed"].contains($0.status) }
        let low = tensors.filter { $0.status == "low-rank" }
        // Changed tensors that were not sketched stand for the sketched ones of their kind.
        let sketchedChanged = changed.filter { $0.status != "changed" || $0.shape.count != 2 }
        let targets = modules.filter { $0.lowRank > 0 }.map(\.module)
        let matrices = tensors.filter { $0.kind == .matrix && $0.shape.count == 2 }
        let changedMatrices = matrices.filter { $0.status == "low-rank" || $0.status == "full-rank" }
        let unsketched = matrices.filter { $0.status == "changed" }.count
        let fullMatrices = matrices.filter { $0.status == "full-rank" }

        var classification = "mixed"
        if changed.isEmpty {
            classification = "unchanged"
        } else if !low.isEmpty, sketchedChanged.count == low.count {
            classification = "lora"
        } else if !matrices.isEmpty, (changedMatrices.count + unsketched) * 2 >= matrices.count, fullMatrices.count * 2 >= changedMatrices.count,
                  median(fullMatrices.compactMap { $0.spectrum?.structure }) >= finetuneStructure,
                  median(changedMatrices.compactMap(\.relL2)) < 0.5 {
            classification = "finetune"
        }
        var direction: DirectionEvidence
        if lowEnergy > 0, classification == "lora" {
            let t = dotAD / lowEnergy
            let parent: String? = Swift.abs(t) <= 0.25 ? "a" : (Swift.abs(1 + t) <= 0.25 ? "b" : nil)
            direction = DirectionEvidence(orthogonality: Numbers.significant(t, digits: 4), parent: parent,
                                          kurtosisLowerInB: kurtosisLower, kurtosisCompared: kurtosisCompared,
                                          note: parent == nil
                                            ? "the low-rank deltas are orthogonal to neither side: no parent named"
                                            : "the low-rank deltas are orthogonal to \(parent!) (Σ<W_a,ΔW>/Σ||ΔW||² = \(String(format: "%.3f", t)); 0 means orthogonal to a, -1 to b): a zero-initialised update grew from \(parent!)")
        } else {
            direction = DirectionEvidence(orthogonality: nil, parent: nil, kurtosisLowerInB: kurtosisLower, kurtosisCompared: kurtosisCompared,
                                          note: "no merged low-rank update: the deltas name no parent (kurtosis is reported, not used: on the fixtures fine-tuning lowered it in most tensors)")
        }
        return LoRAReport(classification: classification,
                          rank: classification == "lora" ? low.compactMap { $0.spectrum?.gapRank }.max() : nil, targets: targets,
                          untouchedUnchanged: low.isEmpty ? nil : sketchedChanged.count == low.count,
                          bitIdenticalTensors: bitIdentical, convertedTensors: converted, changedTensors: changed.count,
                          modules: modules, tensors: tensors, direction: direction, adapter: nil, check: nil)
    }

    /// "bit-identical" or "converted" when the streamed pass already settled the pair, else nil.
    static func settled(_ m: PairMeasures) -> String? {
        if m.bitIdentical { return "bit-identical" }
        if m.sums.unequal == 0 && m.sums.nonFinite == 0 { return "converted" }
        if let r = m.rounding, r.mismatches == 0 { return "converted" }
        return nil
    }

    static func settledRecord(_ pair: TensorPair, status: String) -> (TensorDelta, PairStats) {
        let shape = pair.rows == pair.a.rowCount ? pair.a.shape : [pair.rows] + Array(pair.a.shape.dropFirst())
        return (TensorDelta(a: pair.a.name, b: pair.b.name, module: moduleName(pair.key), kind: pair.kind, shape: shape,
                            status: status, relL2: nil, spectrum: nil, intrudersB: nil, intrudersA: nil, kurtosisA: nil, kurtosisB: nil),
                PairStats())
    }

    /// Replaces the energies (and relL2) of a sampled analysis by the streamed pass's exact sums.
    static func exact(_ m: PairMeasures, into record: inout TensorDelta, _ stats: inout PairStats) {
        stats.deltaEnergy = m.sums.sumDiff2
        stats.baseEnergy = m.sums.sumA2
        stats.dotAD = m.sums.dot - m.sums.sumA2
        if record.status != "bit-identical", record.status != "converted", let r = m.relativeL2 {
            record.relL2 = Numbers.significant(r, digits: 5)
        }
    }

    /// At most `count` elements of `items`, evenly spaced, first and last included.
    static func evenlySpaced(_ items: [Int], count: Int) -> [Int] {
        guard items.count > count, count > 1 else { return Array(items.prefix(max(count, 0))) }
        return (0 ..< count).map { items[$0 * (items.count - 1) / (count - 1)] }
    }

    struct PairStats {
        var deltaEnergy = 0.0, baseEnergy = 0.0, dotAD = 0.0
    }

    /// The module a tensor belongs to, without its layer index or `.weight`: `attention.self.query`.
    public static func moduleName(_ key: String) -> String {
        var parts = key.split(separator: ".").map(String.init)
        if parts.last == "weight" || parts.last == "bias" { parts.removeLast() }
        if let i = parts.lastIndex(where: { Int($0) != nil }), i + 1 < parts.count { parts = Array(parts[(i + 1)...]) }
        return parts.joined(separator: ".")
    }

    /// One pair, read whole, or (with `valueLimit`) on a regular sample of its rows.
    static func analysePair(_ pair: TensorPair, _ a: Model, _ b: Model, intruders: Bool = true,
                            valueLimit: Int? = nil) -> (TensorDelta, PairStats) {
        let shape = pair.rows == pair.a.rowCount ? pair.a.shape : [pair.rows] + Array(pair.a.shape.dropFirst())
        var record = TensorDelta(a: pair.a.name, b: pair.b.name, module: moduleName(pair.key), kind: pair.kind, shape: shape,
                                 status: "not-decoded", relL2: nil, spectrum: nil, intrudersB: nil, intrudersA: nil,
                                 kurtosisA: nil, kurtosisB: nil)
        var stats = PairStats()
        // (With `valueLimit` the streamed pass has settled bit identity already.)
        if valueLimit == nil, pair.a.type == pair.b.type, pair.rowMapA == pair.rowMapB, pair.rows == pair.a.rowCount, pair.rows == pair.b.rowCount,
           bytesEqual(a.data(of: pair.a), b.data(of: pair.b)) {
            record.status = "bit-identical"
            return (record, stats)
        }
        let ma: FloatMatrix, mb: FloatMatrix
        do throws(ReadError) {
            if let valueLimit, pair.a.shape.count == 2, pair.rows * pair.a.rowLength > valueLimit {
                let keep = min(pair.rows, max(2 * sketchRank, valueLimit / max(pair.a.rowLength, 1)))
                let rows = (0 ..< keep).map { $0 * pair.rows / keep }
                ma = try FloatMatrix.load(a, pair.a, map: pair.rowMapA, rowIndices: rows)
                mb = try FloatMatrix.load(b, pair.b, map: pair.rowMapB, rowIndices: rows)
            } else {
                ma = try FloatMatrix.load(a, pair.a, map: pair.rowMapA, rows: pair.rows)
                mb = try FloatMatrix.load(b, pair.b, map: pair.rowMapB, rows: pair.rows)
            }
        } catch { return (record, stats) }
        let fa = pair.a.type.floatFormat, fb = pair.b.type.floatFormat
        if let fa, let fb, agreeUpToConversion(ma.values, fa, mb.values, fb) {
            record.status = "converted"
            return (record, stats)
        }
        var delta = mb
        ma.values.withUnsafeBufferPointer { x in
            delta.values.withUnsafeMutableBufferPointer { d in
                for i in 0 ..< d.count { d[i] -= x[i] }
            }
        }
        let noise = (fa.map { Spectrum.roundingNoise(of: ma.values, format: $0) } ?? 0)
            + (fb.map { Spectrum.roundingNoise(of: mb.values, format: $0) } ?? 0)
        let momentsA = Moments(ma.values), momentsB = Moments(mb.values)
        let n = Int32(ma.count)
        stats.deltaEnergy = delta.values.withUnsafeBufferPointer { cblas_dsdot(n, $0.baseAddress, 1, $0.baseAddress, 1) }
        stats.baseEnergy = ma.values.withUnsafeBufferPointer { cblas_dsdot(n, $0.baseAddress, 1, $0.baseAddress, 1) }
        stats.dotAD = ma.values.withUnsafeBufferPointer { pa in delta.values.withUnsafeBufferPointer { cblas_dsdot(n, pa.baseAddress, 1, $0.baseAddress, 1) } }
        record.relL2 = Numbers.significant(stats.baseEnergy > 0 ? (stats.deltaEnergy / stats.baseEnergy).squareRoot() : 0, digits: 5)
        record.kurtosisA = momentsA.excessKurtosis.map { Numbers.significant($0, digits: 5) }
        record.kurtosisB = momentsB.excessKurtosis.map { Numbers.significant($0, digits: 5) }
        record.status = "changed"
        guard shape.count == 2, min(shape[0], shape[1]) >= 2 else { return (record, stats) }
        let m = ma.rows, k = ma.columns
        let deltaMatrix = FloatMatrix(rows: m, columns: k, values: delta.values)
        let values = RandomizedSVD.singularValues(of: deltaMatrix, count: min(sketchRank, min(m, k)))
        let spectrum = Spectrum.summarize(values, energy: stats.deltaEnergy, noise: noise, rows: m, columns: k)
        record.spectrum = spectrum
        record.status = spectrum.lowRank ? "low-rank" : "full-rank"
        if intruders, pair.kind == .matrix, min(m, k) > intruderTop {
            let reference = min(sketchRank, min(m, k))
            let ua = RandomizedSVD.leftSingularVectors(of: FloatMatrix(rows: m, columns: k, values: ma.values), count: reference)
            let ub = RandomizedSVD.leftSingularVectors(of: FloatMatrix(rows: m, columns: k, values: mb.values), count: reference)
            record.intrudersB = DeltaAnalysis.intruders(of: ub, against: ua)
            record.intrudersA = DeltaAnalysis.intruders(of: ua, against: ub)
        }
        return (record, stats)
    }

    /// Top `intruderTop` columns of `u` whose largest |cosine| with the columns of `reference` is
    /// below `intruderCosine`.
    static func intruders(of u: FloatMatrix, against reference: FloatMatrix) -> Int {
        let top = min(intruderTop, u.columns), m = u.rows, r = reference.columns
        guard top > 0, r > 0 else { return 0 }
        var cos = [Float](repeating: 0, count: top * r)
        // cos = U[:, :top]ᵀ · R  (top × r)
        u.values.withUnsafeBufferPointer { pu in
            reference.values.withUnsafeBufferPointer { pr in
                cos.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(top), Int32(r), Int32(m), 1,
                                pu.baseAddress, Int32(u.columns), pr.baseAddress, Int32(r), 0, pc.baseAddress, Int32(r))
                }
            }
        }
        var count = 0
        for i in 0 ..< top where (0 ..< r).map({ Swift.abs(cos[i * r + $0]) }).max()! < intruderCosine { count += 1 }
        return count
    }

    /// True when one side's values are the other's rounded to its narrower float format (or the same values).
    static func agreeUpToConversion(_ x: [Float], _ fx: FloatFormat, _ y: [Float], _ fy: FloatFormat) -> Bool {
        if fx == fy { return x == y }
        let (wide, narrow, format): ([Float], [Float], FloatFormat)
        if fx.contains(fy) { (wide, narrow, format) = (x, y, fy) } else if fy.contains(fx) { (wide, narrow, format) = (y, x, fx) } else { return false }
        let code = PairMeasurer.kernelFormat(format)
        for i in 0 ..< wide.count {
            let r = pdg_round_to_format(wide[i], code)
            if r != narrow[i] && !(r.isNaN && narrow[i].isNaN) { return false }
        }
        return true
    }

    static func bytesEqual(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// Central moments for the excess kurtosis E[(x−μ)⁴]/σ⁴ − 3 (population moments, in Double, two passes).
struct Moments {
    var n = 0.0, m2 = 0.0, m4 = 0.0

    init(_ values: [Float]) {
        n = Double(values.count)
        guard !values.isEmpty else { return }
        values.withUnsafeBufferPointer { x in
            var sum = 0.0
            for v in x { sum += Double(v) }
            let mean = sum / n
            var s2 = 0.0, s4 = 0.0
            for v in x {
                let c = Double(v) - mean, c2 = c * c
                s2 += c2
                s4 += c2 * c2
            }
            m2 = s2
            m4 = s4
        }
    }

    var excessKurtosis: Double? { m2 > 0 ? n * m4 / (m2 * m2) - 3 : nil }
}
