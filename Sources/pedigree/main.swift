import Foundation
import Pedigree

/// The `pedigree` command: parses arguments, calls one Pedigree function, renders, exits.
let usage = """
usage: pedigree <command> [arguments]

commands:
  inspect PATH [--format text|json]        what a model's headers say (no tensor data read)
  compare A B [--format text|json]         the relation of two models, with evidence
  extract-lora --base A --model B --rank R -o DIR   writes a PEFT adapter from the low-rank deltas
  verify MODEL [--claimed-base B] [--models FILE]   checks lineage claims (exit 1: contradicted or inconclusive)
  tree M1 M2 ... | DIR [--format text|json|dot|mermaid]   the family tree of several models

exit status: 0 when it ran, 2 on an input error, 64 on a usage error
"""

Pedigree.keepScratchMemory()
var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    Output.standardError("pedigree: no command given\n" + usage)
    exit(64)
}
arguments.removeFirst()
switch command {
case "inspect": exit(InspectCommand.run(arguments))
case "compare": exit(CompareCommand.run(arguments))
case "extract-lora": exit(ExtractLoRACommand.run(arguments))
case "verify": exit(VerifyCommand.run(arguments))
case "tree": exit(TreeCommand.run(arguments))
case "--version", "version": Output.standardOutput("pedigree \(Pedigree.version)\n")
case "--help", "-h", "help": Output.standardOutput(usage + "\n")
default:
    Output.standardError("pedigree: unknown command '\(command)'\n" + usage)
    exit(64)
}
