//! `kiln`: the command-line host.

mod cli;

use std::process::ExitCode;

/// mimalloc rather than the system allocator: lifting a turn's chunks and records makes many
/// small short-lived allocations, where glibc's malloc cost ~12 K instructions per builder turn
/// and mimalloc ~3.5 K (docs/benchmarks.md). The benches that time the engine in-process use
/// it too, so their figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
