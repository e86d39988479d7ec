import CPedigreeKernels
import Foundation

/// Runs independent jobs on every core, one BLAS thread per job. Each job computes alone on its
/// own data, so the results do not depend on the number of cores (nor on OpenBLAS's thread count,
/// which is 1 inside every job).
enum ParallelMap {
    private final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            next += 1
            return next - 1
        }
    }

    /// Calls `body` once for each of 0 ..< count, from up to `threads` workers (nil: one per core)
    /// that take the indices in order.
    static func forEach(_ count: Int, threads: Int? = nil, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, count))
        let counter = Counter()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(ProcessInfo.processInfo.activeProcessorCount)) }
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while case let index = counter.take(), index < count { body(index) }
        }
    }

    private final class Results<Value>: @unchecked Sendable {
        let lock = NSLock()
        var values = [Int: Value]()
    }

    /// `job` of every key, keyed by key.
    static func run<Value>(_ keys: [Int], threads: Int? = nil, _ job: @escaping @Sendable (Int) -> Value) -> [Int: Value] {
        let results = Results<Value>()
        forEach(keys.count, threads: threads) { index in
            let value = job(keys[index])
            results.lock.lock()
            results.values[keys[index]] = value
            results.lock.unlock()
        }
        return results.values
    }
}
