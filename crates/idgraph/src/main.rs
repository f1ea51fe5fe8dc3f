//! The `idgraph` command line: one module per command (`*_cmd.rs`), shared plumbing in
//! [`cli`] (global options, config, store, connectors, output) and [`config`] (the layered
//! `idgraph.toml`).

#[allow(dead_code)] // used by the commands as they land
mod cli;
#[allow(dead_code)] // used by the commands as they land
mod config;
mod sim_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// idgraph: who has access to which SaaS app, and what is wrong with it.
///
/// idgraph pulls every account, role, group and membership out of Freshservice, Freshdesk,
/// Freshsales, FreshBooks and Help Scout into an identity graph, links them to the people in your
/// HR roster and reports orphaned, unmatched, pending and wasted access.
#[derive(Debug, Parser)]
#[command(name = "idgraph", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: cli::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Sim(sim_cmd::SimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(&cli.global.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Sim(args) => sim_cmd::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
