//! Validating a policy file from a terminal exactly as the plugin validates
//! one it is asked to load (`registry::validate`): the runtime's
//! `load_with` (size, compile, imports, WIT version, link, metadata), the built-in
//! scorer's name kept reserved, then the runtime's `self_test` on canned
//! inputs under the normal limits.
//!
//! Invariants:
//! - Same order and same runtime calls as `registry::validate`, with the
//!   same import rule ([`OPERATOR_IMPORTS`]) under the limits the plugin
//!   starts with (`Limits::default()`); only the outcome is richer: a
//!   failure says at which stage, with a stable kind.
//! - Kinds are the runtime's `FailureKind` names for call failures (a
//!   metadata call or the self-test) and a snake_case name per `LoadError`
//!   otherwise, so one table names every way a policy can be refused.

use revops_runtime::{Imports, LoadError, LoadedPolicy, PolicyRuntime, SelfTestReport};

/// What an operator's policy file may import, as the plugin loads one.
/// Must stay what `registry::validate` (the `revenue-wasm load` and policy
/// directory path) allows: [`Imports::HostAndWasiShim`], operator policies
/// may use the deterministic WASI shim.
pub const OPERATOR_IMPORTS: Imports = Imports::HostAndWasiShim;

/// Where validation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The bytes are not a WebAssembly component at all.
    Compile,
    /// Loaded as a component but refused (imports, WIT, exports, metadata).
    Load,
    /// Loaded, but the self-test failed.
    SelfTest,
}

/// Why the plugin would refuse a policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    pub stage: Stage,
    /// e.g. `forbidden_import`, `out_of_fuel`, `invalid_output`.
    pub kind: String,
    /// The call that failed, for a failed call (`metadata`, `decide-fees
    /// (first decision)`, …).
    pub call: Option<String>,
    /// The plugin's own message.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.stage, &self.call) {
            (Stage::SelfTest, Some(call)) => {
                write!(
                    f,
                    "self-test {call} failed ({}): {}",
                    self.kind, self.message
                )
            }
            (_, Some(call)) => write!(f, "{call} failed ({}): {}", self.kind, self.message),
            (_, None) => write!(f, "{} ({})", self.message, self.kind),
        }
    }
}

impl Refusal {
    fn load(kind: &str, call: Option<&str>, message: String) -> Self {
        let stage = if kind == "not_a_component" {
            Stage::Compile
        } else {
            Stage::Load
        };
        Refusal {
            stage,
            kind: kind.to_string(),
            call: call.map(str::to_string),
            message,
        }
    }
}

/// A stable name for each way `load` refuses a component.
pub fn load_error_kind(error: &LoadError) -> (String, Option<&'static str>) {
    let kind = match error {
        LoadError::TooLarge { .. } => "too_large",
        LoadError::Compile(_) => "not_a_component",
        LoadError::ForbiddenImport { .. } => "forbidden_import",
        LoadError::WasiNotAllowed { .. } => "wasi_not_allowed",
        LoadError::IncompatibleWit { .. } => "incompatible_wit",
        LoadError::MissingExport { .. } => "missing_export",
        LoadError::Link(_) => "link",
        LoadError::Metadata(failure) => return (failure.kind.to_string(), Some("metadata")),
        LoadError::InvalidMetadata(_) => "invalid_metadata",
        LoadError::RoleMismatch { .. } => "role_mismatch",
        // A kind added to the runtime later is still a refusal.
        #[allow(unreachable_patterns)]
        _ => "load_error",
    };
    (kind.to_string(), None)
}

/// The runtime's `load`, its error told as a [`Refusal`]. A file that is
/// not a component gets a first sentence saying what it is instead.
pub fn load(runtime: &PolicyRuntime, wasm: &[u8]) -> Result<LoadedPolicy, Refusal> {
    runtime.load_with(wasm, OPERATOR_IMPORTS).map_err(|error| {
        let (kind, call) = load_error_kind(&error);
        let message = one_line(&error.to_string());
        let message = match (&error, what_it_is(wasm)) {
            (LoadError::Compile(_), Some(what)) => format!("{what}; {message}"),
            _ => message,
        };
        Refusal::load(&kind, call, message)
    })
}

/// What a file that failed to compile is, when its header tells.
fn what_it_is(wasm: &[u8]) -> Option<&'static str> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_MODULE: &[u8] = &[1, 0, 0, 0];
    if !wasm.starts_with(MAGIC) {
        return Some("not WebAssembly at all (no `\\0asm` header)");
    }
    (wasm.get(4..8) == Some(CORE_MODULE)).then_some(
        "a core WebAssembly module, not a component: encode it with \
         `cl-revenue-ops policy build` (or `wasm-tools component new`)",
    )
}

/// Runs of whitespace (newlines from pretty-printed errors) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The name of the built-in rebalance scorer, which no file may take (the
/// plugin keeps it outside the fee set; a namesake would shadow it only
/// half-way).
pub fn reserved_scorer_name(runtime: &PolicyRuntime) -> Option<String> {
    runtime
        .load(revops_policy_artifacts::REBALANCE_EV)
        .ok()
        .map(|p| p.name().to_string())
}

/// The plugin's checks after a successful load: the reserved name, then the
/// self-test.
pub fn after_load(
    runtime: &PolicyRuntime,
    policy: &LoadedPolicy,
    reserved: Option<&str>,
) -> Result<SelfTestReport, Refusal> {
    if reserved == Some(policy.name()) {
        return Err(Refusal::load(
            "reserved_name",
            None,
            format!(
                "`{}` is the built-in scorer's name; give the policy its own name",
                policy.name()
            ),
        ));
    }
    runtime.self_test(policy).map_err(|failure| Refusal {
        stage: Stage::SelfTest,
        kind: failure.failure.kind.to_string(),
        call: Some(failure.call.to_string()),
        message: failure.failure.message,
    })
}

/// Everything the plugin checks before it accepts a policy file.
pub fn validate(
    runtime: &PolicyRuntime,
    wasm: &[u8],
) -> Result<(LoadedPolicy, SelfTestReport), Refusal> {
    let policy = load(runtime, wasm)?;
    let reserved = reserved_scorer_name(runtime);
    let report = after_load(runtime, &policy, reserved.as_deref())?;
    Ok((policy, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_policy_artifacts::{FEE_ALPHA, REBALANCE_EV, hostile};
    use revops_runtime::Limits;

    fn runtime() -> PolicyRuntime {
        PolicyRuntime::new(Limits::default()).unwrap()
    }

    #[test]
    fn built_ins_pass_and_a_hostile_policy_fails_its_self_test() {
        let rt = runtime();
        let (policy, report) = validate(&rt, FEE_ALPHA).unwrap();
        assert_eq!(policy.name(), "fee-alpha");
        assert!(report.fee_decisions > 0);
        let refusal = validate(&rt, hostile::GUEST_ERROR).unwrap_err();
        assert_eq!(refusal.stage, Stage::SelfTest);
        assert_eq!(refusal.kind, "guest_error");
        assert!(refusal.call.unwrap().starts_with("decide-fees"));
    }

    #[test]
    fn garbage_is_not_a_component_and_the_scorer_name_is_reserved() {
        let rt = runtime();
        let refusal = validate(&rt, b"\0asm garbage").unwrap_err();
        assert_eq!(
            (refusal.stage, refusal.kind.as_str()),
            (Stage::Compile, "not_a_component")
        );
        let text = validate(&rt, b"text").unwrap_err().message;
        assert!(text.starts_with("not WebAssembly at all"), "{text}");
        assert!(!text.contains('\n'), "{text}");
        let core = validate(&rt, b"\0asm\x01\0\0\0").unwrap_err().message;
        assert!(
            core.starts_with("a core WebAssembly module, not a component"),
            "{core}"
        );
        // The built-in scorer itself, offered as a file, takes the reserved name.
        let refusal = validate(&rt, REBALANCE_EV).unwrap_err();
        assert_eq!(refusal.kind, "reserved_name");
    }
}
