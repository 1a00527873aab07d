//! The simulated lightningd against a small real cln-plugin: start-up,
//! framing, passthrough, the RPC socket, setconfig, notifications, hooks,
//! shutdown, crashes and the violation detector.

mod common;

use common::{echo_plugin, eventually, network, script_plugin, start_echo};
use revops_lightningd_sim::{LIGHTNINGD_VERSION, LightningdConfig, SimLightningd};
use serde_json::{Value, json};

#[tokio::test]
async fn starts_like_lightningd_with_typed_options() {
    let ld = start_echo(&[("echo-count", json!("7")), ("echo-label", json!("x"))]).await;
    let opts = ld.call("echo-options", json!({})).await.unwrap();
    assert_eq!(opts["echo-greeting"], "hello");
    assert_eq!(opts["echo-fee-ppm"], 100);
    assert_eq!(opts["echo-verbose"], false);
    assert_eq!(opts["echo-count"], 7);
    assert_eq!(opts["echo-label"], "x");
    assert_eq!(opts["env"]["LIGHTNINGD_PLUGIN"], "1");
    assert_eq!(opts["env"]["LIGHTNINGD_VERSION"], LIGHTNINGD_VERSION);
    assert_eq!(opts["cwd"], ld.lightning_dir().display().to_string());
    assert!(ld.lightning_dir().join("lightning-rpc").exists());
    assert_eq!(ld.manifest()["options"].as_array().unwrap().len(), 5);
    assert!(ld.protocol_violations().is_empty());
}

#[tokio::test]
async fn passthrough_keeps_object_and_array_params() {
    let ld = start_echo(&[]).await;
    let (a, b) = tokio::join!(
        ld.call("echo", json!({"a": 1, "b": [true]})),
        ld.call("echo", json!([1, "two", null]))
    );
    assert_eq!(a.unwrap(), json!({"params": {"a": 1, "b": [true]}}));
    assert_eq!(b.unwrap(), json!({"params": [1, "two", null]}));
    // lightningd's own commands are answered by the simulated node.
    let info = ld.call("getinfo", json!({})).await.unwrap();
    assert_eq!(
        info["lightning-dir"],
        ld.lightning_dir().display().to_string()
    );
    let unknown = ld.call("nonesuch", json!({})).await.unwrap_err();
    assert_eq!(unknown.code, -32601);
    assert!(ld.protocol_violations().is_empty());
}

#[tokio::test]
async fn plugin_reads_the_simulated_node_through_cln_rpc() {
    let ld = start_echo(&[]).await;
    {
        let net = ld.network();
        let mut net = net.lock().unwrap();
        let t = net.now();
        net.advance_to(t + 3_600);
    }
    let answer = ld.call("echo-node", json!({})).await.unwrap();
    assert_eq!(answer["channels"], 8);
    assert_eq!(answer["network"], "regtest");
    assert!(answer["forwards"].as_u64().unwrap() > 0);
    let methods: Vec<String> = ld.rpc_calls().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        methods,
        ["getinfo", "listpeerchannels", "listforwards", "feerates"]
    );
    assert_eq!(ld.rpc_calls()[3].1, json!({"style": "perkw"}));
    assert!(ld.protocol_violations().is_empty());
}

#[tokio::test]
async fn setchannel_from_the_plugin_reaches_the_network() {
    let ld = start_echo(&[]).await;
    let scid = ld.network().lock().unwrap().channels()[3]
        .short_channel_id
        .clone();
    let answer = ld
        .call("echo-setfee", json!({"id": scid, "feeppm": 777}))
        .await
        .unwrap();
    assert_eq!(answer["changed"], 1);
    let net = ld.network();
    let net = net.lock().unwrap();
    assert_eq!(net.channel(&scid).unwrap().fee_ppm, 777);
    assert_eq!(net.setchannel_calls().len(), 1);
}

#[tokio::test]
async fn setconfig_sends_strings_and_answers_like_lightningd() {
    let ld = start_echo(&[]).await;
    let answer = ld.setconfig("echo-fee-ppm", "250").await.unwrap();
    let config = &answer["config"];
    assert_eq!(config["config"], "echo-fee-ppm");
    assert_eq!(config["value_int"], 250);
    assert_eq!(config["dynamic"], true);
    assert!(
        config["source"]
            .as_str()
            .unwrap()
            .ends_with("config.setconfig:1")
    );
    assert_eq!(
        config["plugin"],
        echo_plugin().canonicalize().unwrap().display().to_string()
    );

    // Through the command path too, with a typed JSON value as lightning-cli may send it.
    let via_call = ld
        .call("setconfig", json!(["echo-verbose", true]))
        .await
        .unwrap();
    assert_eq!(via_call["config"]["value_bool"], true);

    let not_dynamic = ld.setconfig("echo-count", "5").await.unwrap_err();
    assert_eq!(not_dynamic.code, -32602);
    assert_eq!(not_dynamic.message, "Not a dynamic config option");
    let refused = ld.setconfig("echo-fee-ppm", "lots").await.unwrap_err();
    assert_eq!(refused.code, -32602);

    let opts = ld.call("echo-options", json!({})).await.unwrap();
    assert_eq!(opts["echo-fee-ppm"], 250);
    assert_eq!(opts["echo-verbose"], true);
    let received = opts["setconfigs"].as_array().unwrap();
    // The non-dynamic one never reached the plugin; every value came as a string.
    assert_eq!(received.len(), 3);
    assert!(
        received.iter().all(|s| s["val_is_string"] == true),
        "{received:?}"
    );
    assert_eq!(received[1]["val"], "true");

    let listed = ld
        .call("listconfigs", json!({"config": "echo-fee-ppm"}))
        .await
        .unwrap();
    assert_eq!(listed["configs"]["echo-fee-ppm"]["value_int"], 250);
    assert!(ld.protocol_violations().is_empty());
}

#[tokio::test]
async fn notifications_reach_subscribers_only() {
    let ld = start_echo(&[]).await;
    let event = json!({"payment_hash": "00", "in_channel": "1x1x1", "in_msat": 1000,
        "status": "settled", "received_time": 1.0});
    assert!(ld.notify("forward_event", event.clone()).await.unwrap());
    assert!(
        !ld.notify("block_added", json!({"hash": "00", "height": 1}))
            .await
            .unwrap()
    );
    // The plugin runs notification handlers concurrently: poll until it has it.
    let mut seen = Value::Null;
    for _ in 0..200 {
        seen = ld.call("echo-events", json!({})).await.unwrap();
        if seen["events"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen["events"][0]["params"], json!({"forward_event": event}));
}

#[tokio::test]
async fn log_notifications_are_recorded() {
    let ld = start_echo(&[]).await;
    ld.call("echo-log", json!({})).await.unwrap();
    assert!(
        eventually(|| ld
            .logs()
            .iter()
            .any(|(level, msg)| level == "warn" && msg.contains("echo warn line")))
        .await,
        "logs: {:?}",
        ld.logs()
    );
    assert!(
        ld.logs()
            .iter()
            .any(|(l, m)| l == "info" && m.contains("echo info line"))
    );
}

#[tokio::test]
async fn plugin_list_and_listconfigs_include_the_plugin() {
    let ld = start_echo(&[]).await;
    let list = ld.call("plugin", json!(["list"])).await.unwrap();
    let name = echo_plugin().canonicalize().unwrap().display().to_string();
    assert_eq!(
        list["plugins"],
        json!([{"name": name, "active": true, "dynamic": true}])
    );
    let all = ld.call("listconfigs", json!({})).await.unwrap();
    assert_eq!(all["configs"]["echo-greeting"]["value_str"], "hello");
    assert_eq!(all["configs"]["echo-count"]["source"], "default");
    assert!(all["configs"].get("echo-label").is_none());
    assert_eq!(all["configs"]["network"]["value_str"], "regtest");
}

#[tokio::test]
async fn hooks_continue_and_a_failing_hook_is_fatal() {
    let ld = start_echo(&[]).await;
    let ok = ld
        .hook(
            "peer_connected",
            json!({"peer": {"id": "02aa", "direction": "in"}}),
        )
        .await
        .unwrap();
    assert_eq!(ok, json!({"result": "continue"}));
    assert!(ld.protocol_violations().is_empty());
    let unregistered = ld.hook("htlc_accepted", json!({})).await.unwrap();
    assert_eq!(unregistered, json!({"result": "continue"}));
    assert!(
        ld.hook("peer_connected", json!({"peer": {"id": "fail"}}))
            .await
            .is_err()
    );
    assert_eq!(ld.protocol_violations().len(), 1);
}

#[tokio::test]
async fn stop_sends_shutdown_and_the_plugin_exits() {
    let mut ld = start_echo(&[]).await;
    assert!(ld.is_running());
    let status = ld.stop().await.unwrap();
    assert!(status.success(), "{status}");
    assert!(ld.lightning_dir().join("shutdown-received").exists());
    assert!(!ld.is_running());
    assert_eq!(ld.call("echo", json!({})).await.unwrap_err().code, -4);
    assert!(ld.protocol_violations().is_empty());
}

#[tokio::test]
async fn restart_keeps_dir_options_and_setconfig() {
    let mut ld = start_echo(&[("echo-label", json!("kept"))]).await;
    let dir = ld.lightning_dir().to_path_buf();
    ld.setconfig("echo-fee-ppm", "300").await.unwrap();
    ld.restart().await.unwrap();
    assert_eq!(ld.lightning_dir(), dir);
    let opts = ld.call("echo-options", json!({})).await.unwrap();
    assert_eq!(opts["echo-fee-ppm"], 300);
    assert_eq!(opts["echo-label"], "kept");
    assert!(ld.protocol_violations().is_empty());
}

#[tokio::test]
async fn a_plugin_dying_mid_call_answers_minus_4_and_kill9_recovers() {
    let mut ld = start_echo(&[]).await;
    let died = ld.call("echo-exit", json!({})).await.unwrap_err();
    assert_eq!(died.code, -4);
    assert!(eventually(|| !ld.is_running()).await);
    ld.restart().await.unwrap();
    assert!(ld.call("echo", json!({})).await.is_ok());

    let status = ld.kill9().await.unwrap();
    assert!(!status.success());
    assert_eq!(ld.call("echo", json!({})).await.unwrap_err().code, -4);
    ld.restart().await.unwrap();
    assert!(ld.call("echo", json!([])).await.is_ok());
}

#[tokio::test]
async fn stdout_garbage_is_a_protocol_violation() {
    let ld = start_echo(&[]).await;
    let answer = ld.call("echo-misbehave", json!({})).await.unwrap();
    assert_eq!(answer["done"], true);
    assert!(
        eventually(|| !ld.protocol_violations().is_empty()).await,
        "the stray print went unnoticed"
    );
    assert!(ld.protocol_violations()[0].contains("not JSON"));
}

#[tokio::test]
async fn a_manifest_lightningd_rejects_fails_start() {
    let dir = tempfile::tempdir().unwrap();
    let no_options = script_plugin(
        dir.path(),
        "no-options",
        r#"read -r line
printf '{"jsonrpc":"2.0","id":"cln:getmanifest#0","result":{"rpcmethods":[]}}\n\n'
exec sleep 30"#,
    );
    let err = SimLightningd::start(LightningdConfig::new(&no_options, network()))
        .await
        .err()
        .expect("a manifest without options is refused");
    assert!(format!("{err:#}").contains("lacks `options`"), "{err:#}");

    let no_usage = script_plugin(
        dir.path(),
        "no-usage",
        r#"read -r line
printf '{"jsonrpc":"2.0","id":"cln:getmanifest#0","result":{"options":[],"rpcmethods":[{"name":"x"}]}}\n\n'
exec sleep 30"#,
    );
    let err = SimLightningd::start(LightningdConfig::new(&no_usage, network()))
        .await
        .err()
        .expect("a method without usage is refused");
    assert!(format!("{err:#}").contains("usage not provided"), "{err:#}");
}

#[tokio::test]
async fn a_plugin_disabling_itself_in_init_fails_start() {
    let dir = tempfile::tempdir().unwrap();
    let disabling = script_plugin(
        dir.path(),
        "disabling",
        r#"read -r line
printf '{"jsonrpc":"2.0","id":"cln:getmanifest#0","result":{"options":[],"rpcmethods":[]}}\n\n'
read -r blank
read -r init
printf '{"jsonrpc":"2.0","id":"cln:init#1","result":{"disable":"no thanks"}}\n\n'
exec sleep 30"#,
    );
    let err = SimLightningd::start(LightningdConfig::new(&disabling, network()))
        .await
        .err()
        .expect("a disabled plugin fails start");
    assert!(format!("{err:#}").contains("no thanks"), "{err:#}");
}

#[tokio::test]
async fn a_plugin_printing_garbage_at_startup_fails_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let noisy = script_plugin(
        dir.path(),
        "noisy",
        "printf 'hello there\\n\\n'\necho oops >&2\nexit 1",
    );
    let err = SimLightningd::start(LightningdConfig::new(&noisy, network()))
        .await
        .err()
        .expect("a plugin that exits before its manifest fails start");
    let text = format!("{err:#}");
    assert!(text.contains("before answering `getmanifest`"), "{text}");
    assert!(text.contains("oops"), "stderr is shown: {text}");
}

#[tokio::test]
async fn an_rpc_override_adds_methods_such_as_sling() {
    let ld = start_echo(&[]).await;
    ld.set_rpc_override(Some(std::sync::Arc::new(|net, method, _params| {
        (method == "sling-jobsettings").then(|| Ok(json!({"jobs": net.channels().len()})))
    })));
    assert_eq!(
        ld.call("sling-jobsettings", json!({})).await.unwrap(),
        json!({"jobs": 8})
    );
    // Declined methods fall through to the built-in handling.
    assert!(ld.call("getinfo", json!({})).await.is_ok());
    ld.set_rpc_override(None);
    assert_eq!(
        ld.call("sling-jobsettings", json!({}))
            .await
            .unwrap_err()
            .code,
        -32601
    );
}
