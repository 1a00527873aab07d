//! `cl-revenue-ops`: run by lightningd as a plugin (no arguments), or from a
//! terminal as `cl-revenue-ops simulate` to run the same decision stack
//! against the simulated network, or `cl-revenue-ops policy new|build|check`
//! to write a policy.

mod author;
mod config;
mod forward_events;
mod loops;
mod options;
mod params;
mod plugin;
mod policies;
mod registry;
mod rpc;
mod simulate;
mod state;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cl-revenue-ops",
    version,
    about = "Revenue engine for Core Lightning routing nodes. Run without arguments, lightningd starts it as a plugin."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the plugin's full fee stack against a simulated node and print a report.
    Simulate(simulate::SimulateArgs),
    /// Write a policy: scaffold a crate (`new`), build it into a component
    /// (`build`), validate and exercise a component (`check`).
    Policy(author::PolicyArgs),
}

fn main() -> anyhow::Result<ExitCode> {
    // lightningd starts plugins without arguments; anything else is a terminal.
    if std::env::args_os().len() <= 1 || std::env::var_os("LIGHTNINGD_PLUGIN").is_some() {
        return plugin::run().map(|()| ExitCode::SUCCESS);
    }
    match Cli::parse().command {
        Some(Command::Simulate(args)) => simulate::run(args).map(|()| ExitCode::SUCCESS),
        Some(Command::Policy(args)) => author::run(args),
        None => plugin::run().map(|()| ExitCode::SUCCESS),
    }
}
