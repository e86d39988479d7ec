import CPedigreeKernels
import Foundation

/// Runs independent jobs on every core, one BLAS thread per job, and returns their results keyed
/// by job. Each job computes alone on its own data, so the results do not depend on the number of
/// cores (nor on OpenBLAS's thread count, which is 1 inside every job).
enum ParallelMap {
    private final class Results<Value>: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var values = [Int: Value]()
    }

    static func run<Value>(_ keys: [Int], threads: Int? = nil, _ job: @escaping @Sendable (Int) -> Value) -> [Int: Value] {
        let results = Results<Value>()
        guard !keys.isEmpty else { return [:] }
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, keys.count))
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(ProcessInfo.processInfo.activeProcessorCount)) }
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                results.lock.lock()
                let index = results.next
                results.next += 1
                results.lock.unlock()
                guard index < keys.count else { return }
                let value = job(keys[index])
                results.lock.lock()
                results.values[keys[index]] = value
                results.lock.unlock()
            }
        }
        return results.values
    }
}
