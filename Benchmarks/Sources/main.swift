// Benchmark modes, one file each: `PedigreeBenchmarks dequant [MiB]`.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first ?? "dequant" {
case "dequant": DequantBenchmark.run(Array(arguments.dropFirst()))
case "compare": CompareBenchmark.run(Array(arguments.dropFirst()))
case "alignment": AlignmentBenchmark.run(Array(arguments.dropFirst()))
case "delta-svd": DeltaSVDBenchmark.run(Array(arguments.dropFirst()))
default: print("usage: PedigreeBenchmarks dequant [MiB]")
}
