//! The natgrad command-line application.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
