//! The `runroom` binary: parse the command line, set up logging, run.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = runroom::cli::Cli::parse();
    match runroom::app::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("runroom: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
