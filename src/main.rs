//! The natgrad command-line application.

mod checkpoint;
mod cli;
mod config;
mod eval;
mod logger;
mod render;
mod train;

fn main() -> std::process::ExitCode {
    cli::main()
}
