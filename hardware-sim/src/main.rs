//! calin-sim: a simulated CalinMeter meter (or a bus of them). Thin: parse the arguments,
//! log to stderr, run `calin_agent::sim::cli::run` until Ctrl-C or SIGTERM, map failures
//! to sysexits codes.

use std::process::ExitCode;

use calin_agent::sim::cli::{self, Args, EX_UNAVAILABLE, EX_USAGE};
use clap::Parser;

async fn terminated() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EX_USAGE),
            };
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("calin-sim: cannot start the runtime: {e}");
            return ExitCode::from(EX_UNAVAILABLE);
        }
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(cli::run(args, &mut stdout, terminated())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("calin-sim: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
