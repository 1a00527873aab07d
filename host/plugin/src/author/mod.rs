//! Author tooling, for a terminal rather than lightningd:
//! `cl-revenue-ops policy new|build|check`.
//!
//! - `new` scaffolds a standalone guest crate (`new`);
//! - `build` compiles it for wasm32 and encodes the component, with no
//!   tool beyond cargo and this binary (`build`);
//! - `check` validates a component exactly as the plugin would, then runs it
//!   on randomised inputs and reports (`check`, `inputs`, `report`).
//!
//! `simulate --policy <file>` (in `simulate`) validates with the same
//! [`validate`] before running a file against the built-in policies.

mod build;
mod check;
mod inputs;
mod new;
mod report;
pub mod validate;

use std::process::ExitCode;

#[derive(clap::Args, Debug, Clone)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum PolicyCommand {
    /// Create a policy crate (Rust, wit-bindgen) that `policy build` turns
    /// into a component.
    New(new::NewArgs),
    /// Build a policy crate into a validated component:
    /// `cargo build --target wasm32-unknown-unknown`, then the component
    /// encoding, then the plugin's load checks.
    Build(build::BuildArgs),
    /// Validate a component exactly as the plugin would, run it on
    /// randomised inputs, and report. Exit status 0 passes, 1 fails, 2 the
    /// file could not be loaded at all.
    Check(check::CheckArgs),
}

/// Runs a `policy` subcommand. An error is printed as one line (with its
/// causes) and exits 1; `check` chooses its own status (0, 1 or 2).
pub fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    match run_command(args) {
        Ok(code) => Ok(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn run_command(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PolicyCommand::New(args) => {
            let dir = new::create(&args)?;
            print!("{}", new::next_steps(&dir, &args));
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Build(args) => build::run(&args),
        PolicyCommand::Check(args) => check::run(&args),
    }
}
