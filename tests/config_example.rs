//! deploy/config.example.toml is a configuration `lawbot serve` accepts.

#[test]
fn the_documented_example_configuration_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/config.example.toml");
    let config =
        lawbot::config::Config::load(std::path::Path::new(path)).expect("the example loads");
    assert!(config.wecom.is_some() && config.dingtalk.is_some());
    assert_eq!(config.outbox.per_minute, 20);
    assert!(config.storage.path.unwrap().ends_with("lawbot.db"));
}
