//! The natgrad command-line application.

mod atomic_file;
mod checkpoint;
mod cli;
mod compare;
mod config;
mod demo;
mod eval;
mod launch;
mod logger;
mod plot;
mod render;
mod run_lock;
mod scores;
mod statistics;
mod train;
#[cfg(feature = "gym")]
mod tune;

fn main() -> std::process::ExitCode {
    natgrad_agents::allocator::keep_freed_memory();
    cli::main()
}
