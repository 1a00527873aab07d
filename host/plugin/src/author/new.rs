//! `cl-revenue-ops policy new <name>`: a standalone guest crate that builds
//! to a valid policy component with one command (`policy build`).
//!
//! Invariants:
//! - The name keeps the runtime's metadata rule (`[a-z0-9-]`, 1 to 64
//!   chars) and is also a valid cargo package and Rust crate name (starts
//!   with a letter, not a keyword or a standard crate): the scaffold must
//!   build as written, so a name that could not is refused with the reason.
//! - Nothing is overwritten: the crate directory must not exist yet.
//! - The crate is its own workspace (an empty `[workspace]` table), so it
//!   builds wherever it is put, even inside another cargo workspace.
//! - `wit/policy.wit` is the very contract this binary was built with, and
//!   the `wit-bindgen` version is the one the built-in policies use.

use std::path::{Path, PathBuf};

/// The WIT contract this binary speaks, copied into every scaffold.
pub const POLICY_WIT: &str = include_str!("../../../../wit/policy.wit");

/// Longest policy name, in chars (the runtime's metadata check).
const MAX_NAME_CHARS: usize = 64;

/// Which roles the scaffold implements.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleChoice {
    /// A fee strategy (`decide-fees`), world `fee-policy`.
    Fee,
    /// A rebalance scorer (`score-rebalances`), world `rebalance-policy`.
    Rebalance,
    /// Both roles in one component, world `all-roles`.
    Both,
}

impl RoleChoice {
    fn world(self) -> &'static str {
        match self {
            RoleChoice::Fee => "fee-policy",
            RoleChoice::Rebalance => "rebalance-policy",
            RoleChoice::Both => "all-roles",
        }
    }

    fn roles(self) -> &'static str {
        match self {
            RoleChoice::Fee => "Role::FeeStrategy",
            RoleChoice::Rebalance => "Role::RebalanceScorer",
            RoleChoice::Both => "Role::FeeStrategy, Role::RebalanceScorer",
        }
    }

    fn words(self) -> &'static str {
        match self {
            RoleChoice::Fee => "fee",
            RoleChoice::Rebalance => "rebalance-scoring",
            RoleChoice::Both => "fee and rebalance-scoring",
        }
    }

    fn has_fee(self) -> bool {
        matches!(self, RoleChoice::Fee | RoleChoice::Both)
    }

    fn has_rebalance(self) -> bool {
        matches!(self, RoleChoice::Rebalance | RoleChoice::Both)
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct NewArgs {
    /// The policy's name, as operators will select it: a-z, 0-9 and `-`,
    /// starting with a letter, at most 64 characters.
    pub name: String,
    /// The crate directory to create (must not exist). Default: ./<name>.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The roles the policy implements.
    #[arg(long, value_enum, default_value = "fee")]
    pub role: RoleChoice,
}

/// Rust keywords (strict, reserved, edition 2024) and the standard crates:
/// none of them can be a crate name.
const RESERVED_CRATE_NAMES: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// Checks a policy name for a scaffold; the error says what to change.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "policy name `{name}` must be 1 to {MAX_NAME_CHARS} characters"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "policy name `{name}` may contain only a-z, 0-9 and `-` (found `{bad}`); \
             operators select policies by this name"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "policy name `{name}` must start with a letter (it is also the crate's name)"
        ));
    }
    let crate_name = lib_name(name);
    if RESERVED_CRATE_NAMES.contains(&crate_name.as_str()) {
        return Err(format!(
            "policy name `{name}` is a Rust keyword or standard crate and cannot name a crate; \
             try `{name}-fees`"
        ));
    }
    Ok(())
}

/// The Rust crate (and core module) name of a package.
fn lib_name(name: &str) -> String {
    name.replace('-', "_")
}

/// One file of the scaffold, relative to the crate directory.
pub struct ScaffoldFile {
    pub path: &'static str,
    pub contents: String,
}

/// The scaffold's files for `name` with `role`.
pub fn scaffold(name: &str, role: RoleChoice) -> Vec<ScaffoldFile> {
    // Each fits one line of the generated source (rustfmt-clean).
    let description = match role {
        RoleChoice::Fee => {
            "Prices liquidity by scarcity: the less of a channel is ours, the dearer a forward out."
        }
        RoleChoice::Rebalance => {
            "Refills a channel when the fees it is expected to earn beat the cost of refilling it."
        }
        RoleChoice::Both => {
            "Prices liquidity by scarcity; refills a channel when its expected fees beat the cost."
        }
    };

    let mut lib = String::from(include_str!("templates/lib_head.rs.tmpl"));
    if role.has_fee() {
        lib.push_str(include_str!("templates/fee.rs.tmpl"));
    }
    if role.has_rebalance() {
        lib.push_str(include_str!("templates/rebalance.rs.tmpl"));
    }
    lib.push_str(include_str!("templates/lib_tail.rs.tmpl"));

    let simulate = if role.has_fee() {
        format!(
            "To compare it with the built-in policies on the simulated network:\n\n\
             ```sh\ncl-revenue-ops simulate --policy {name}.wasm --days 30\n```\n\n"
        )
    } else {
        String::new()
    };
    let mut select = Vec::new();
    if role.has_fee() {
        select.push(format!(
            "`lightning-cli revenue-config set default_fee_policy {name}` for every peer, \
             or `lightning-cli revenue-policy -k action=set peer_id=<id> strategy={name}` \
             for one"
        ));
    }
    if role.has_rebalance() {
        select.push(format!(
            "`lightning-cli revenue-config set rebalance_scorer {name}` to score rebalances"
        ));
    }
    let select = format!("{}.", select.join("; "));

    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{lib_name}}", &lib_name(name))
            .replace("{{world}}", role.world())
            .replace("{{roles}}", role.roles())
            .replace("{{role_words}}", role.words())
            .replace("{{description}}", description)
            .replace("{{wit_version}}", revops_runtime::WIT_VERSION)
            .replace("{{simulate}}", &simulate)
            .replace("{{select}}", &select)
    };
    vec![
        ScaffoldFile {
            path: "Cargo.toml",
            contents: fill(include_str!("templates/Cargo.toml.tmpl")),
        },
        ScaffoldFile {
            path: ".gitignore",
            contents: include_str!("templates/gitignore.tmpl").to_string(),
        },
        ScaffoldFile {
            path: "README.md",
            contents: fill(include_str!("templates/README.md.tmpl")),
        },
        ScaffoldFile {
            path: "wit/policy.wit",
            contents: POLICY_WIT.to_string(),
        },
        ScaffoldFile {
            path: "src/lib.rs",
            contents: fill(&lib),
        },
    ]
}

/// Writes the scaffold; returns the crate directory.
pub fn create(args: &NewArgs) -> anyhow::Result<PathBuf> {
    check_name(&args.name).map_err(anyhow::Error::msg)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        anyhow::bail!(
            "`{}` already exists; `policy new` never overwrites (pick another --dir or remove it)",
            dir.display()
        );
    }
    for file in scaffold(&args.name, args.role) {
        write(&dir, file.path, &file.contents)?;
    }
    Ok(dir)
}

fn write(dir: &Path, relative: &str, contents: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))
}

/// What `policy new` prints once the crate exists.
pub fn next_steps(dir: &Path, args: &NewArgs) -> String {
    let shown = dir.display();
    format!(
        "created the {words} policy `{name}` in {shown}/\n\
         \n\
         next:\n\
         \x20 cd {shown}\n\
         \x20 cargo test                           # the strategy's unit tests, natively\n\
         \x20 cl-revenue-ops policy build          # -> {name}.wasm\n\
         \x20 cl-revenue-ops policy check {name}.wasm\n\
         \n\
         (building needs the wasm target once: rustup target add wasm32-unknown-unknown)\n",
        words = args.role.words(),
        name = args.name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_runtime_rule_and_cargo_s() {
        for good in ["peer-tiered-fees", "a", "fees2", &"a".repeat(64)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        let refused = |name: &str| check_name(name).unwrap_err();
        assert!(refused("").contains("1 to 64"));
        assert!(refused(&"a".repeat(65)).contains("1 to 64"));
        assert!(refused("Fees").contains("found `F`"));
        assert!(refused("my_fees").contains("found `_`"));
        assert!(refused("my fees").contains("a-z, 0-9"));
        assert!(refused("2fast").contains("start with a letter"));
        assert!(refused("-x").contains("start with a letter"));
        assert!(refused("fn").contains("keyword"));
        assert!(refused("std").contains("keyword"));
    }

    #[test]
    fn every_role_gets_its_world_and_only_its_code() {
        let lib = |role| {
            scaffold("my-fees", role)
                .into_iter()
                .find(|f| f.path == "src/lib.rs")
                .unwrap()
                .contents
        };
        let fee = lib(RoleChoice::Fee);
        assert!(fee.contains("world: \"fee-policy\""));
        assert!(fee.contains("fn decide_fees") && !fee.contains("fn score_rebalances"));
        let scorer = lib(RoleChoice::Rebalance);
        assert!(scorer.contains("world: \"rebalance-policy\""));
        assert!(scorer.contains("fn score_rebalances") && !scorer.contains("fn decide_fees"));
        let both = lib(RoleChoice::Both);
        assert!(both.contains("world: \"all-roles\""));
        assert!(both.contains("Role::FeeStrategy, Role::RebalanceScorer"));
        for text in [&fee, &scorer, &both] {
            assert!(!text.contains("{{"), "an unfilled placeholder:\n{text}");
            assert!(text.contains("pub const NAME: &str = \"my-fees\";"));
        }
    }

    #[test]
    fn the_crate_is_standalone_and_carries_the_contract() {
        let files = scaffold("my-fees", RoleChoice::Fee);
        let file = |path: &str| &files.iter().find(|f| f.path == path).unwrap().contents;
        let manifest = file("Cargo.toml");
        assert!(manifest.contains("name = \"my-fees\""));
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(manifest.contains("wit-bindgen = { version = \"0.63\""));
        assert_eq!(file("wit/policy.wit"), POLICY_WIT);
        assert!(POLICY_WIT.contains(&format!(
            "package revops:policy@{};",
            revops_runtime::WIT_VERSION
        )));
        let readme = file("README.md");
        assert!(readme.contains("policy check my-fees.wasm"), "{readme}");
        assert!(
            readme.contains("simulate --policy my-fees.wasm"),
            "{readme}"
        );
        assert!(!readme.contains("{{"), "{readme}");
    }

    /// The scaffold's wit-bindgen is the one the built-in policies use.
    #[test]
    fn wit_bindgen_matches_the_workspace() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let manifest = std::fs::read_to_string(root).unwrap();
        let ours = manifest
            .lines()
            .find(|l| l.starts_with("wit-bindgen = "))
            .expect("the workspace pins wit-bindgen");
        let version = ours.split('"').nth(1).unwrap();
        let scaffold = include_str!("templates/Cargo.toml.tmpl");
        assert!(
            scaffold.contains(&format!("wit-bindgen = {{ version = \"{version}\"")),
            "the workspace has {ours}"
        );
    }

    /// `examples/peer-tiered-fees` was made by `policy new` and is built in
    /// CI: it speaks the current contract.
    #[test]
    fn the_rust_example_carries_the_current_contract() {
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/peer-tiered-fees/wit/policy.wit");
        let copy = std::fs::read_to_string(&example).unwrap();
        assert!(
            copy == POLICY_WIT,
            "{} differs from wit/policy.wit: copy it over (and rebuild the example)",
            example.display()
        );
    }

    #[test]
    fn an_existing_directory_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let args = NewArgs {
            name: "my-fees".to_string(),
            dir: Some(dir.path().to_path_buf()),
            role: RoleChoice::Fee,
        };
        let err = create(&args).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
