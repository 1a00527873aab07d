//! A tiny cln-plugin used only by the harness's own tests: it exercises the
//! protocol paths the real plugin uses (options, passthrough, setconfig,
//! notifications, the RPC socket via cln-rpc, shutdown) plus deliberate
//! misbehaviour for the violation detector.

use cln_plugin::options::{
    ConfigOption, DefaultBooleanConfigOption, DefaultIntegerConfigOption,
    DefaultStringConfigOption, StringConfigOption,
};
use cln_plugin::{Builder, Error, Plugin, options};
use cln_rpc::ClnRpc;
use cln_rpc::model::requests::{
    FeeratesRequest, FeeratesStyle, GetinfoRequest, ListforwardsRequest, ListpeerchannelsRequest,
    SetchannelRequest,
};
use cln_rpc::primitives::Amount;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct State {
    /// Every notification received: (topic, params).
    events: Arc<Mutex<Vec<(String, Value)>>>,
    /// The JSON type and value of each setconfig `val` received.
    setconfigs: Arc<Mutex<Vec<Value>>>,
}

#[tokio::main]
async fn main() -> Result<(), anyhow::Error> {
    let greeting: DefaultStringConfigOption =
        ConfigOption::new_str_with_default("echo-greeting", "hello", "What to greet with")
            .dynamic();
    let fee: DefaultIntegerConfigOption =
        ConfigOption::new_i64_with_default("echo-fee-ppm", 100, "A dynamic int option").dynamic();
    let verbose: DefaultBooleanConfigOption =
        ConfigOption::new_bool_with_default("echo-verbose", false, "A dynamic bool option")
            .dynamic();
    let count: DefaultIntegerConfigOption =
        ConfigOption::new_i64_with_default("echo-count", 3, "A static int option");
    let label: StringConfigOption =
        ConfigOption::new_str_no_default("echo-label", "A string option without default");

    let state = State::default();
    let Some(plugin) = Builder::new(tokio::io::stdin(), tokio::io::stdout())
        .option(greeting)
        .option(fee)
        .option(verbose)
        .option(count)
        .option(label)
        .setconfig_callback(on_setconfig)
        .rpcmethod("echo", "Returns its params as received", echo)
        .rpcmethod("echo-options", "Current option values", echo_options)
        .rpcmethod("echo-node", "Reads lightningd through cln-rpc", echo_node)
        .rpcmethod("echo-setfee", "setchannel through cln-rpc", echo_setfee)
        .rpcmethod("echo-events", "Notifications received so far", echo_events)
        .rpcmethod("echo-log", "Logs one line per level", echo_log)
        .rpcmethod("echo-misbehave", "Writes garbage to stdout", echo_misbehave)
        .rpcmethod("echo-exit", "Exits without replying", echo_exit)
        .hook("peer_connected", on_peer_connected)
        .subscribe("forward_event", on_event)
        .subscribe("shutdown", on_shutdown)
        .dynamic()
        .start(state)
        .await?
    else {
        return Ok(());
    };
    plugin.join().await
}

async fn on_setconfig(plugin: Plugin<State>, params: Value) -> Result<Value, Error> {
    let name = params["config"].as_str().unwrap_or_default().to_string();
    let val = params.get("val").cloned().unwrap_or(Value::Null);
    plugin.state().setconfigs.lock().unwrap().push(json!({
        "config": name,
        "val": val,
        "val_is_string": val.is_string(),
    }));
    let text = match &val {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let value = match name.as_str() {
        "echo-fee-ppm" => options::Value::Integer(text.parse().map_err(|_| {
            anyhow::anyhow!(
                json!({"code": -32602, "message": format!("echo-fee-ppm: `{text}` is not an integer")})
                    .to_string()
            )
        })?),
        "echo-verbose" => options::Value::Boolean(text == "true"),
        _ => options::Value::String(text),
    };
    plugin.set_option_str(&name, value)?;
    Ok(json!({}))
}

async fn echo(_p: Plugin<State>, params: Value) -> Result<Value, Error> {
    Ok(json!({ "params": params }))
}

async fn echo_options(p: Plugin<State>, _params: Value) -> Result<Value, Error> {
    let mut out = serde_json::Map::new();
    for name in [
        "echo-greeting",
        "echo-fee-ppm",
        "echo-verbose",
        "echo-count",
        "echo-label",
    ] {
        out.insert(name.to_string(), serde_json::to_value(p.option_str(name)?)?);
    }
    out.insert(
        "setconfigs".to_string(),
        Value::Array(p.state().setconfigs.lock().unwrap().clone()),
    );
    out.insert(
        "cwd".to_string(),
        json!(std::env::current_dir()?.display().to_string()),
    );
    out.insert(
        "env".to_string(),
        json!({
            "LIGHTNINGD_PLUGIN": std::env::var("LIGHTNINGD_PLUGIN").ok(),
            "LIGHTNINGD_VERSION": std::env::var("LIGHTNINGD_VERSION").ok(),
        }),
    );
    Ok(Value::Object(out))
}

async fn rpc(p: &Plugin<State>) -> Result<ClnRpc, Error> {
    let conf = p.configuration();
    let path = PathBuf::from(conf.lightning_dir).join(conf.rpc_file);
    ClnRpc::new(path).await
}

async fn echo_node(p: Plugin<State>, _params: Value) -> Result<Value, Error> {
    let mut rpc = rpc(&p).await?;
    let info = rpc.call_typed(&GetinfoRequest {}).await?;
    let channels = rpc
        .call_typed(&ListpeerchannelsRequest {
            id: None,
            short_channel_id: None,
            channel_id: None,
        })
        .await?;
    let forwards = rpc
        .call_typed(&ListforwardsRequest {
            status: None,
            in_channel: None,
            out_channel: None,
            index: None,
            start: None,
            limit: None,
        })
        .await?;
    let feerates = rpc
        .call_typed(&FeeratesRequest {
            style: FeeratesStyle::PERKW,
        })
        .await?;
    Ok(json!({
        "id": info.id.to_string(),
        "network": info.network,
        "blockheight": info.blockheight,
        "channels": channels.channels.len(),
        "forwards": forwards.forwards.len(),
        "opening_perkw": feerates.perkw.and_then(|f| f.opening),
    }))
}

async fn echo_setfee(p: Plugin<State>, params: Value) -> Result<Value, Error> {
    let mut rpc = rpc(&p).await?;
    let id = params["id"].as_str().unwrap_or("all").to_string();
    let ppm = params["feeppm"].as_u64().unwrap_or(1) as u32;
    let answer = rpc
        .call_typed(&SetchannelRequest {
            id,
            feebase: Some(Amount::from_msat(0)),
            feeppm: Some(ppm),
            htlcmin: None,
            htlcmax: None,
            enforcedelay: None,
            ignorefeelimits: None,
        })
        .await?;
    Ok(json!({ "changed": answer.channels.len() }))
}

async fn echo_events(p: Plugin<State>, _params: Value) -> Result<Value, Error> {
    let events = p.state().events.lock().unwrap().clone();
    Ok(
        json!({ "events": events.into_iter().map(|(t, v)| json!({"topic": t, "params": v})).collect::<Vec<_>>() }),
    )
}

async fn echo_log(_p: Plugin<State>, _params: Value) -> Result<Value, Error> {
    log::debug!("echo debug line");
    log::info!("echo info line");
    log::warn!("echo warn line");
    Ok(json!({}))
}

async fn echo_misbehave(_p: Plugin<State>, _params: Value) -> Result<Value, Error> {
    // Exactly what lightningd kills plugins for: a stray print on stdout.
    println!("this is not JSON-RPC\n");
    Ok(json!({"done": true}))
}

async fn echo_exit(_p: Plugin<State>, _params: Value) -> Result<Value, Error> {
    std::process::exit(3);
}

async fn on_event(p: Plugin<State>, params: Value) -> Result<(), Error> {
    p.state()
        .events
        .lock()
        .unwrap()
        .push(("forward_event".to_string(), params));
    Ok(())
}

/// Continues, unless the peer id is "fail": then replies with an error, which
/// lightningd treats as fatal (the harness records it).
async fn on_peer_connected(_p: Plugin<State>, params: Value) -> Result<Value, Error> {
    if params["peer"]["id"] == "fail" {
        anyhow::bail!("refusing this peer by failing the hook");
    }
    Ok(json!({"result": "continue"}))
}

async fn on_shutdown(_p: Plugin<State>, _params: Value) -> Result<(), Error> {
    // Leave a trace in the lightning-dir (our cwd) so the test can see we got it.
    std::fs::write("shutdown-received", b"yes")?;
    std::process::exit(0);
}
