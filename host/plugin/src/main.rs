//! `cl-revenue-ops`: run by lightningd as a plugin (no arguments), or from a
//! terminal as `cl-revenue-ops simulate` to run the same decision stack
//! against the simulated network.

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
}

fn main() -> anyhow::Result<()> {
    // lightningd starts plugins without arguments; anything else is a terminal.
    if std::env::args_os().len() <= 1 || std::env::var_os("LIGHTNINGD_PLUGIN").is_some() {
        return plugin::run();
    }
    match Cli::parse().command {
        Some(Command::Simulate(args)) => simulate::run(args),
        None => plugin::run(),
    }
}
