//! The `idgraph` command line: one module per command (`*_cmd.rs`), shared plumbing in
//! [`cli`] (global options, config, store, connectors, output) and [`config`] (the layered
//! `idgraph.toml`).

mod accounts_cmd;
mod cli;
mod config;
mod correlate_cmd;
mod demo_cmd;
mod events_cmd;
mod init_cmd;
mod review_cmd;
mod roster_cmd;
mod sim_cmd;
mod sync_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: loading a million accounts for a review is mostly
/// small allocations made on one thread (sqlx's SQLite worker) and freed on another, where
/// glibc's malloc is slow (docs/benchmarks.md, "The access review through the store").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Demo(demo_cmd::DemoArgs),
    Init(init_cmd::InitArgs),
    Sync(sync_cmd::SyncArgs),
    Accounts(accounts_cmd::AccountsArgs),
    Events(events_cmd::EventsArgs),
    Roster(roster_cmd::RosterArgs),
    Review(review_cmd::ReviewArgs),
    Correlate(correlate_cmd::CorrelateArgs),
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
            Command::Demo(args) => demo_cmd::run(args, &cli.global).await,
            Command::Init(args) => init_cmd::run(args, &cli.global.config),
            Command::Sync(args) => sync_cmd::run(args, &cli.global).await,
            Command::Accounts(args) => accounts_cmd::run(args, &cli.global).await,
            Command::Events(args) => events_cmd::run(args, &cli.global).await,
            Command::Roster(args) => roster_cmd::run(args, &cli.global).await,
            Command::Review(args) => review_cmd::run(args, &cli.global).await,
            Command::Correlate(args) => correlate_cmd::run(args, &cli.global).await,
            Command::Sim(args) => sim_cmd::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A verdict, not an error (`review --fail-on`): its own status and message.
            if let Some(exit) = e.downcast_ref::<cli::Exit>() {
                eprintln!("{exit}");
                return ExitCode::from(exit.code);
            }
            // The reader went away (`idgraph accounts | head`): nothing more to say.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
