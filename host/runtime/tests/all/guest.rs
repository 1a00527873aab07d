//! Policy components built inside the tests: a hand-written core module (WAT)
//! for the `fee-policy`, `rebalance-policy` or `all-roles` world (per
//! [`Roles`]), embedded with its WIT and encoded as a component by
//! `wit-component` — real components, no toolchain needed.
//!
//! The guest's `decide-fees` runs an optional prelude (spin, grow memory,
//! trap), logs `log_lines` lines, then answers per [`Answer`];
//! `score-rebalances` runs the same prelude and answers per [`Scoring`].
//! A guest built against `0.1.0` uses the 0.1.0 WIT kept verbatim in
//! `tests/fixtures`. The canonical ABI layouts it relies on (wasm32):
//! - `rebalance-verdict`: 48 bytes, align 8; accept 0, amount-msat 8,
//!   max-fee-ppm 16, sources (ptr 20, len 24), expected-profit-msat 32,
//!   reason (ptr 40, len 44).
//! - `channel-fee-input`: 224 bytes, align 8; `short-channel-id` at 0,
//!   `fee-ppm` at 48.
//! - `fee-decision`: 40 bytes, align 4; scid 0, fee-ppm 8, step 12,
//!   reason 20, state option (tag 28, ptr 32, len 36).
//! - `result<list<fee-decision>, string>`: tag at 0, payload (ptr, len) at 4.

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// The real contract, as the host's bindings see it.
pub const POLICY_WIT: &str = include_str!("../../../../wit/policy.wit");
/// The version `POLICY_WIT` declares.
pub const CURRENT_WIT_VERSION: &str = "0.1.1";
/// The 0.1.0 contract, verbatim (no rebalance-scorer role).
pub const POLICY_WIT_0_1_0: &str = include_str!("../../tests/fixtures/policy-0.1.0.wit");

/// `@0.2.0` is replaced by the guest's `wasi_clock_version`.
const WASI_CLOCKS_WIT: &str = r#"
package wasi:clocks@0.2.0;

interface wall-clock {
    record datetime { seconds: u64, nanoseconds: u32 }
    now: func() -> datetime;
}
"#;

const WITH_WASI_WIT: &str = r#"
package revops-test:guest;

world fee-policy-with-clock {
    include revops:policy/fee-policy@VERSION;
    import wasi:clocks/wall-clock@0.2.0;
}
"#;

const METADATA_ONLY_WIT: &str = r#"
package revops-test:partial;

world metadata-only {
    import revops:policy/host@VERSION;
    export revops:policy/metadata@VERSION;
}
"#;

/// What `decide-fees` returns after its prelude and logging.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// One decision per input, echoing the scid and the current fee.
    Echo {
        /// `Some(n)`: every decision carries an `n`-byte state.
        state_bytes: Option<u32>,
        /// Length of the `step` string (`hold`, or that many `x`).
        step_chars: u32,
        /// Length of the `reason` string (`r` repeated).
        reason_bytes: u32,
    },
    /// `err("policy refuses")`.
    Err,
    /// `ok` with one decision fewer than inputs (or none for none).
    DropLast,
}

impl Answer {
    pub const ECHO: Answer = Answer::Echo {
        state_bytes: None,
        step_chars: 4,
        reason_bytes: 8,
    };
}

/// Which role interfaces the guest exports, and so which world it is built
/// for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roles {
    /// `fee-policy`: `fee-strategy` only.
    Fee,
    /// `rebalance-policy`: `rebalance-scorer` only (0.1.1 and later).
    Scorer,
    /// `all-roles`: both (0.1.1 and later).
    Both,
}

/// What `score-rebalances` returns after its prelude.
#[derive(Clone, Copy, Debug)]
pub enum Scoring {
    /// One rejecting verdict per candidate (amount 0, no sources).
    RejectAll,
    /// One verdict fewer than candidates.
    DropLast,
    /// One verdict per candidate naming a source `foreign` that no
    /// candidate offered.
    ForeignSource,
}

/// Something run at the start of `decide-fees` (and `score-rebalances`).
#[derive(Clone, Copy, Debug)]
pub enum Prelude {
    None,
    /// `loop br 0`: only fuel or the epoch stops it.
    Spin,
    /// Grow memory a page at a time until refused, then `unreachable`.
    MemoryBomb,
    /// `unreachable`, as a Rust panic compiles to.
    Unreachable,
}

#[derive(Clone, Debug)]
pub struct Guest {
    pub name: String,
    pub version: String,
    /// The `revops:policy` version the guest is built against.
    pub wit_version: String,
    pub log_lines: u32,
    pub log_line: String,
    pub prelude: Prelude,
    pub answer: Answer,
    /// Also import `wasi:clocks/wall-clock@<wasi_clock_version>` (forbidden
    /// unless the WASI shim is allowed and provides that version).
    pub import_wasi_clock: bool,
    pub wasi_clock_version: String,
    /// Export only `metadata` (no fee-strategy role implementation).
    pub metadata_only: bool,
    pub roles: Roles,
    /// The role enum values `metadata` declares; `None`: those of `roles`.
    pub declared_roles: Option<Vec<u8>>,
    pub scoring: Scoring,
}

impl Guest {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: "1.0.0".to_owned(),
            wit_version: CURRENT_WIT_VERSION.to_owned(),
            log_lines: 0,
            log_line: "hello from the guest".to_owned(),
            prelude: Prelude::None,
            answer: Answer::ECHO,
            import_wasi_clock: false,
            wasi_clock_version: "0.2.0".to_owned(),
            metadata_only: false,
            roles: Roles::Fee,
            declared_roles: None,
            scoring: Scoring::RejectAll,
        }
    }

    pub fn roles(mut self, roles: Roles) -> Self {
        self.roles = roles;
        self
    }

    /// Make `metadata` declare these role enum values (0 fee-strategy,
    /// 1 rebalance-scorer, 2 health-scorer, 3 splice-guard).
    pub fn declare_roles(mut self, roles: &[u8]) -> Self {
        self.declared_roles = Some(roles.to_vec());
        self
    }

    pub fn scoring(mut self, scoring: Scoring) -> Self {
        self.scoring = scoring;
        self
    }

    /// The role enum values `metadata` returns.
    fn declared(&self) -> Vec<u8> {
        self.declared_roles
            .clone()
            .unwrap_or_else(|| match self.roles {
                Roles::Fee => vec![0],
                Roles::Scorer => vec![1],
                Roles::Both => vec![0, 1],
            })
    }

    pub fn prelude(mut self, prelude: Prelude) -> Self {
        self.prelude = prelude;
        self
    }

    pub fn answer(mut self, answer: Answer) -> Self {
        self.answer = answer;
        self
    }

    pub fn logs(mut self, lines: u32, line: &str) -> Self {
        self.log_lines = lines;
        self.log_line = line.to_owned();
        self
    }

    pub fn wit_version(mut self, version: &str) -> Self {
        self.wit_version = version.to_owned();
        self
    }

    pub fn metadata_only(mut self) -> Self {
        self.metadata_only = true;
        self
    }

    pub fn with_wasi_clock(mut self) -> Self {
        self.import_wasi_clock = true;
        self
    }

    /// [`Self::with_wasi_clock`] at another WASI version.
    pub fn with_wasi_clock_version(mut self, version: &str) -> Self {
        self.import_wasi_clock = true;
        self.wasi_clock_version = version.to_owned();
        self
    }

    /// The encoded component.
    pub fn component(&self) -> Vec<u8> {
        let mut resolve = Resolve::default();
        let version = &self.wit_version;
        let policy_wit = if version == "0.1.0" {
            POLICY_WIT_0_1_0.to_owned()
        } else {
            POLICY_WIT.replace(&format!("@{CURRENT_WIT_VERSION}"), &format!("@{version}"))
        };
        let policy_pkg = resolve
            .push_str("policy.wit", &policy_wit)
            .expect("policy WIT parses");
        let world = if self.metadata_only {
            let pkg = resolve
                .push_str(
                    "partial.wit",
                    &METADATA_ONLY_WIT.replace("VERSION", version),
                )
                .expect("partial world parses");
            resolve
                .select_world(&[pkg], Some("metadata-only"))
                .expect("partial world exists")
        } else if self.import_wasi_clock {
            let wasi = format!("@{}", self.wasi_clock_version);
            resolve
                .push_str("clocks.wit", &WASI_CLOCKS_WIT.replace("@0.2.0", &wasi))
                .expect("clocks WIT parses");
            let pkg = resolve
                .push_str(
                    "with-wasi.wit",
                    &WITH_WASI_WIT
                        .replace("VERSION", version)
                        .replace("@0.2.0", &wasi),
                )
                .expect("test world parses");
            resolve
                .select_world(&[pkg], Some("fee-policy-with-clock"))
                .expect("test world exists")
        } else {
            let world = match self.roles {
                Roles::Fee => "fee-policy",
                Roles::Scorer => "rebalance-policy",
                Roles::Both => "all-roles",
            };
            resolve
                .select_world(&[policy_pkg], Some(world))
                .expect("the role's world exists in this WIT version")
        };
        let module = wat::parse_str(self.wat()).expect("guest WAT is valid");
        encode(module, &resolve, world)
    }

    fn wat(&self) -> String {
        let v = &self.wit_version;
        let name = &self.name;
        let version = &self.version;
        let log_line = &self.log_line;
        let log_lines = self.log_lines;
        let clock_import = if self.import_wasi_clock {
            format!(
                r#"(import "wasi:clocks/wall-clock@{}" "now" (func $now (param i32)))"#,
                self.wasi_clock_version
            )
        } else {
            String::new()
        };
        // Calling the clock keeps the import alive in the component.
        let clock_call = if self.import_wasi_clock {
            "(call $now (i32.const 3072))"
        } else {
            ""
        };
        let prelude = match self.prelude {
            Prelude::None => "",
            Prelude::Spin => "(loop $spin (br $spin))",
            Prelude::MemoryBomb => {
                "(loop $bomb (br_if $bomb (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable"
            }
            Prelude::Unreachable => "unreachable",
        };
        let (state_tag, state_len, step_len, reason_len) = match self.answer {
            Answer::Echo {
                state_bytes,
                step_chars,
                reason_bytes,
            } => (
                i32::from(state_bytes.is_some()),
                state_bytes.unwrap_or(0),
                step_chars,
                reason_bytes,
            ),
            _ => (0, 0, 4, 8),
        };
        let answer = match self.answer {
            Answer::Echo { .. } => "(call $answer (local.get $ptr) (local.get $len))",
            Answer::DropLast => {
                "(call $answer (local.get $ptr) (select (i32.sub (local.get $len) (i32.const 1)) (i32.const 0) (local.get $len)))"
            }
            Answer::Err => {
                r#"(i32.store8 (i32.const 2048) (i32.const 1))
                   (i32.store (i32.const 2052) (i32.const 256))
                   (i32.store (i32.const 2056) (i32.const 14))
                   (i32.const 2048)"#
            }
        };
        let step = if step_len == 4 {
            "hold".to_owned()
        } else {
            "x".repeat(step_len as usize)
        };
        let reason = "r".repeat(reason_len as usize);
        let has_fee = !self.metadata_only && self.roles != Roles::Scorer;
        let has_scorer = !self.metadata_only && self.roles != Roles::Fee;
        let decide_export = if has_fee {
            format!(r#"(export "revops:policy/fee-strategy@{v}#decide-fees")"#)
        } else {
            String::new()
        };
        let score_export = if has_scorer {
            format!(r#"(export "revops:policy/rebalance-scorer@{v}#score-rebalances")"#)
        } else {
            String::new()
        };
        let declared = self.declared();
        let roles_len = declared.len();
        let roles_data: String = declared.iter().map(|r| format!("\\{r:02x}")).collect();
        let (verdict_count, sources_len) = match self.scoring {
            Scoring::RejectAll => ("(local.get $len)", 0),
            Scoring::DropLast => (
                "(select (i32.sub (local.get $len) (i32.const 1)) (i32.const 0) (local.get $len))",
                0,
            ),
            Scoring::ForeignSource => ("(local.get $len)", 1),
        };
        let name_len = name.len();
        let version_len = version.len();
        let log_len = log_line.len();
        // Memory map: 16 name, 96 version, 160 roles, 176 description,
        // 256 error text, 320 log line, 1024 metadata return area, 2048
        // decide and score return area, 4096 step, 8192 reason, 15360 the
        // foreign-source list, 15616 its string, 16384 heap.
        format!(
            r#"
(module
  (import "revops:policy/host@{v}" "log" (func $log (param i32 i32 i32)))
  {clock_import}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 16384))
  (data (i32.const 16) "{name}")
  (data (i32.const 96) "{version}")
  (data (i32.const 160) "{roles_data}")
  ;; list<string> ["foreign"] (string at 15616) for Scoring::ForeignSource
  (data (i32.const 15360) "\00\3d\00\00\07\00\00\00")
  (data (i32.const 15616) "foreign")
  (data (i32.const 176) "a test policy")
  (data (i32.const 256) "policy refuses")
  (data (i32.const 320) "{log_line}")
  (data (i32.const 4096) "{step}")
  (data (i32.const 8192) "{reason}")

  (func $realloc (export "cabi_realloc")
        (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
               (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (block $fits
      (loop $grow
        (br_if $fits (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $ptr))

  (func (export "revops:policy/metadata@{v}#metadata") (result i32)
    {clock_call}
    (i32.store (i32.const 1024) (i32.const 16))
    (i32.store (i32.const 1028) (i32.const {name_len}))
    (i32.store (i32.const 1032) (i32.const 96))
    (i32.store (i32.const 1036) (i32.const {version_len}))
    (i32.store (i32.const 1040) (i32.const 160))
    (i32.store (i32.const 1044) (i32.const {roles_len}))
    (i32.store (i32.const 1048) (i32.const 176))
    (i32.store (i32.const 1052) (i32.const 13))
    (i32.const 1024))

  ;; ok(list of `$n` decisions echoing the first `$n` inputs at `$ptr`)
  (func $answer (param $ptr i32) (param $n i32) (result i32)
    (local $i i32) (local $out i32) (local $in i32) (local $d i32)
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 4)
                                   (i32.mul (local.get $n) (i32.const 40))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $in (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 224))))
        (local.set $d (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 40))))
        (i32.store (local.get $d) (i32.load (local.get $in)))
        (i32.store offset=4 (local.get $d) (i32.load offset=4 (local.get $in)))
        (i32.store offset=8 (local.get $d) (i32.load offset=48 (local.get $in)))
        (i32.store offset=12 (local.get $d) (i32.const 4096))
        (i32.store offset=16 (local.get $d) (i32.const {step_len}))
        (i32.store offset=20 (local.get $d) (i32.const 8192))
        (i32.store offset=24 (local.get $d) (i32.const {reason_len}))
        (i32.store8 offset=28 (local.get $d) (i32.const {state_tag}))
        (i32.store offset=32 (local.get $d) (i32.const 0))
        (i32.store offset=36 (local.get $d) (i32.const {state_len}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store8 (i32.const 2048) (i32.const 0))
    (i32.store (i32.const 2052) (local.get $out))
    (i32.store (i32.const 2056) (local.get $n))
    (i32.const 2048))

  (func $decide_fees {decide_export}
        (param $ptr i32) (param $len i32) (result i32)
    (local $i i32)
    {prelude}
    (block $logged
      (loop $line
        (br_if $logged (i32.ge_u (local.get $i) (i32.const {log_lines})))
        (call $log (i32.const 2) (i32.const 320) (i32.const {log_len}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $line)))
    {answer})

  ;; ok(list of `$n` verdicts), each rejecting and naming `sources_len`
  ;; sources from the static list at 15360.
  (func $score_rebalances {score_export}
        (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $n i32) (local $out i32) (local $v i32)
    {prelude}
    (local.set $n {verdict_count})
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 8)
                                   (i32.mul (local.get $n) (i32.const 48))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 48))))
        (i32.store8 (local.get $v) (i32.const 0))
        (i64.store offset=8 (local.get $v) (i64.const 0))
        (i32.store offset=16 (local.get $v) (i32.const 0))
        (i32.store offset=20 (local.get $v) (i32.const 15360))
        (i32.store offset=24 (local.get $v) (i32.const {sources_len}))
        (i64.store offset=32 (local.get $v) (i64.const 0))
        (i32.store offset=40 (local.get $v) (i32.const 8192))
        (i32.store offset=44 (local.get $v) (i32.const {reason_len}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store8 (i32.const 2048) (i32.const 0))
    (i32.store (i32.const 2052) (local.get $out))
    (i32.store (i32.const 2056) (local.get $n))
    (i32.const 2048))
)
"#
        )
    }
}

/// `module` (a core module) as a component of `world`.
pub fn encode(mut module: Vec<u8>, resolve: &Resolve, world: wit_parser::WorldId) -> Vec<u8> {
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .expect("metadata embeds");
    ComponentEncoder::default()
        .module(&module)
        .expect("module is accepted")
        .validate(true)
        .encode()
        .expect("component encodes")
}

/// `module` as a component of the current WIT's `fee-policy` world.
pub fn encode_fee_policy(module: Vec<u8>) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_str("policy.wit", POLICY_WIT)
        .expect("policy WIT parses");
    let world = resolve
        .select_world(&[pkg], Some("fee-policy"))
        .expect("fee-policy exists");
    encode(module, &resolve, world)
}
