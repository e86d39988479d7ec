import CPedigreeKernels
import Foundation
import PedigreeFormats

/// Measures every tensor pair of a comparison on several cores, and folds the permutation
/// statistics in pair order, so the result is the same whatever the thread count.
///
/// Workers (`ParallelMap.forEach`) take pairs in order; a finished pair waits in a small reorder
/// buffer until every earlier pair has been folded, which bounds memory to the few statistics
/// that finish early.
enum PairStream {
    struct Result {
        var outcomes: [PairOutcome]
        var findings: [Finding]
        var joint: JointPermutationAccumulator?
        var blocks: [String: (accumulator: JointPermutationAccumulator, tensors: Int, order: Int)]
    }

    /// One measured pair, before folding.
    private struct Measured {
        var outcome: PairOutcome
        var statistic: PermutationStatistic?   // with its centred matrix
        var finding: Finding?
    }

    /// The shared state of the workers, guarded by `lock`.
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var folded = 0
        var pending = [Int: Measured]()
        var result = Result(outcomes: [], findings: [], joint: nil, blocks: [:])
    }

    static func run(_ pairs: [TensorPair], a: Model, b: Model, options: CompareOptions) -> Result {
        let state = State()
        var shared = options.measures
        let evidence = max(1, pairs.filter { $0.kind.carriesEvidence && $0.a.shape.count >= 2 }.count)
        shared.sampleBudget = min(shared.sampleBudget, max(shared.minimumSampleBudget, shared.totalSampleBudget / evidence))
        let measureOptions = shared
        ParallelMap.forEach(pairs.count, threads: options.threads) { index in
            let measured = measure(pairs[index], a: a, b: b, options: measureOptions)
            state.lock.lock()
            state.pending[index] = measured
            while let ready = state.pending.removeValue(forKey: state.folded) {
                fold(ready, into: &state.result)
                state.folded += 1
            }
            state.lock.unlock()
        }
        return state.result
    }

    private static func measure(_ pair: TensorPair, a: Model, b: Model, options: PairMeasurer.Options) -> Measured {
        do throws(ReadError) {
            var measures = try PairMeasurer.measure(pair, a: a, b: b, options: options)
            var statistic: PermutationStatistic?
            if let sample = measures.sample, !measures.isDegenerate {
                statistic = HiddenPermutationTest.statistic(of: sample)
            }
            let joint = measures.sample?.joint ?? false
            measures.sample = nil   // the sample is large; keep only the statistic
            return Measured(outcome: PairOutcome(pair: pair, measures: measures, statistic: statistic.map(\.withoutDetail), failure: nil),
                            statistic: joint ? statistic : nil, finding: nil)
        } catch {
            return Measured(outcome: PairOutcome(pair: pair, measures: nil, statistic: nil, failure: error.message), statistic: nil,
                            finding: Finding(.warning, "not-decoded", tensor: pair.a.name, error.message))
        }
    }

    private static func fold(_ measured: Measured, into result: inout Result) {
        result.outcomes.append(measured.outcome)
        if let finding = measured.finding { result.findings.append(finding) }
        guard let statistic = measured.statistic else { return }
        if result.joint == nil { result.joint = JointPermutationAccumulator(units: statistic.units) }
        result.joint!.add(statistic)
        let block = BlockNaming.block(of: measured.outcome.pair)
        if result.blocks[block] == nil {
            result.blocks[block] = (JointPermutationAccumulator(units: statistic.units), 0, result.blocks.count)
        }
        result.blocks[block]!.accumulator.add(statistic)
        result.blocks[block]!.tensors += 1
    }
}
