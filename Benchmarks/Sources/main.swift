// Benchmark modes, one file each: `PedigreeBenchmarks alignment [units ...] [--null PAIRS]`.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "alignment": AlignmentBenchmark.run(Array(arguments.dropFirst()))
default: print("not yet")
}
