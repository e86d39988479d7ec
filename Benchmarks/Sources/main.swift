import CPedigreeKernels
// Benchmark modes, one file each: `PedigreeBenchmarks <mode> ...` (see Benchmarks/run.sh).
import Pedigree
Pedigree.keepScratchMemory()
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first ?? "dequant" {
case "dequant": DequantBenchmark.run(Array(arguments.dropFirst()))
case "compare": CompareBenchmark.run(Array(arguments.dropFirst()))
case "make": CompareBenchmark.makeCheckpoints(Array(arguments.dropFirst()))
case "readonce": CompareBenchmark.readOnceSeconds(Array(arguments.dropFirst()))
case "similarity" where arguments.count >= 3: CompareBenchmark.similaritySeconds(arguments[1], arguments[2])
case "inspect": CompareBenchmark.inspectMilliseconds(arguments[1])
case "corename": print(String(cString: openblas_get_corename()))
case "alignment": AlignmentBenchmark.run(Array(arguments.dropFirst()))
case "delta-svd": DeltaSVDBenchmark.run(Array(arguments.dropFirst()))
case "residual": ResidualBenchmark.run(Array(arguments.dropFirst()))
case "null-check": NullCheckBenchmark.run(Array(arguments.dropFirst()))
default: print("usage: PedigreeBenchmarks compare|make|readonce|similarity|inspect|corename|alignment|delta-svd|residual|null-check ...")
}
