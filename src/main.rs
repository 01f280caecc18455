//! The `calin-agent` binary: parse, dispatch, map errors to exit codes. Nothing else.

use calin_agent::cli::{self, exit, Cli};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    // Design: stderr is not locked for the whole run: the daemon logs to it from more
    // than one thread, and a lock held here would block those threads for good.
    let code = cli::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr());
    ExitCode::from(code)
}
