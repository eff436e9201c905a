//! The `serve` configuration: a TOML file, every secret overridable from the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// A secret value: never printed by Debug, never written to logs or errors.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it (a signature, a login frame).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, compared in constant time.
    pub fn matches(&self, given: &str) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            self.0.as_bytes(),
        ))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: String },
    /// Malformed TOML, an unknown key or a value of the wrong type.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A key the enabled mode needs has no value in the file or the environment.
    #[error("[{section}] {key} is required (or set the environment variable {env})")]
    Missing {
        section: &'static str,
        key: &'static str,
        env: &'static str,
    },
    /// A value is present but unusable.
    #[error("[{section}] {key}: {message}")]
    Invalid {
        section: &'static str,
        key: &'static str,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    /// The `/api/ask` endpoint for integrations.
    #[serde(default)]
    pub api: ApiConfig,
    pub wecom: Option<WecomConfig>,
    pub dingtalk: Option<DingtalkConfig>,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// The admin API (groups, broadcasts) for the bureau's tools.
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub reminders: RemindersConfig,
    #[serde(default)]
    pub questions: QuestionsConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    /// Every group's weekly reminder unless the group sets its own: `mon 09:00` (Asia/Shanghai), or `off`.
    pub default: String,
    /// How late a reminder may still go out after the process was down, in hours.
    pub grace_hours: u32,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        RemindersConfig {
            default: "mon 09:00".into(),
            grace_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuestionsConfig {
    /// Log answered questions (time, platform, group, clauses, score; never who asked).
    pub log: bool,
    /// Days a logged question is kept.
    pub retention_days: u32,
}

impl Default for QuestionsConfig {
    fn default() -> Self {
        QuestionsConfig {
            log: true,
            retention_days: 180,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// The SQLite database; default `lawbot.db` beside the configuration file.
    pub path: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Messages one robot may be sent per window (the platforms allow 20 a minute).
    pub per_minute: u32,
    /// The rate-limit window in seconds (60; shorter only in tests).
    pub window_seconds: u64,
    /// How often the worker looks for new messages when idle, in milliseconds.
    pub poll_ms: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            per_minute: 20,
            window_seconds: 60,
            poll_ms: 500,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Bearer token of the admin API (env LAWBOT_ADMIN_TOKEN); without one the admin API is off.
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_limit: usize,
    /// Questions one sender may ask per minute before getting a polite "slow down".
    pub rate_limit_per_minute: u32,
    /// How long a message id is remembered to drop redeliveries, in seconds (at least an hour).
    pub dedup_seconds: u64,
    /// How `lawbot serve` writes its log to stderr: lines for people, or one JSON object a line.
    pub log_format: LogFormat,
}

/// The log's format.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: 64 * 1024,
            rate_limit_per_minute: 20,
            dedup_seconds: 3600,
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Bearer token required by `/api/ask`; without one the endpoint is open (bind to loopback then).
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    /// The callback Token set in the robot's API mode (env LAWBOT_WECOM_TOKEN); with
    /// `encoding_aes_key` it turns the HTTP callback on.
    pub token: Option<Secret>,
    /// The 43-character EncodingAESKey (env LAWBOT_WECOM_ENCODING_AES_KEY).
    pub encoding_aes_key: Option<Secret>,
    #[serde(default = "default_wecom_path")]
    pub callback_path: String,
    /// Base URL of WeCom's API, where group-robot webhooks are sent.
    #[serde(default = "default_wecom_api")]
    pub api_base: String,
    pub long_connection: Option<WecomLongConnection>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WecomLongConnection {
    pub bot_id: String,
    /// The robot's Secret (env LAWBOT_WECOM_LONG_CONNECTION_SECRET).
    pub secret: Option<Secret>,
    #[serde(default = "default_wecom_ws")]
    pub url: String,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_seconds: u64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DingtalkConfig {
    /// The app's AppSecret, which signs HTTP callbacks (env LAWBOT_DINGTALK_APP_SECRET); it
    /// turns the HTTP callback on.
    pub app_secret: Option<Secret>,
    #[serde(default = "default_dingtalk_path")]
    pub callback_path: String,
    /// Base URL of DingTalk's old API, where custom-robot messages are sent.
    #[serde(default = "default_dingtalk_oapi")]
    pub api_base: String,
    pub stream: Option<DingtalkStream>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DingtalkStream {
    /// The app's AppKey.
    pub client_id: String,
    /// The app's AppSecret (env LAWBOT_DINGTALK_STREAM_CLIENT_SECRET).
    pub client_secret: Option<Secret>,
    /// Base URL of DingTalk's OpenAPI, where the stream gateway is opened.
    #[serde(default = "default_dingtalk_api")]
    pub api_base: String,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_seconds: u64,
}

fn default_wecom_path() -> String {
    "/wecom/callback".into()
}
fn default_dingtalk_path() -> String {
    "/dingtalk/callback".into()
}
fn default_wecom_api() -> String {
    "https://qyapi.weixin.qq.com".into()
}
fn default_dingtalk_oapi() -> String {
    "https://oapi.dingtalk.com".into()
}
fn default_wecom_ws() -> String {
    "wss://openws.work.weixin.qq.com".into()
}
fn default_dingtalk_api() -> String {
    "https://api.dingtalk.com".into()
}
fn default_heartbeat() -> u64 {
    30
}

impl Config {
    /// Reads a configuration file and applies the environment's secrets.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            error: error.to_string(),
        })?;
        let mut config = Config::parse(&text, |name| std::env::var(name).ok())?;
        let beside = path.parent().unwrap_or(Path::new("."));
        config.storage.path = Some(match config.storage.path.take() {
            Some(p) if p.is_relative() => beside.join(p),
            Some(p) => p,
            None => beside.join("lawbot.db"),
        });
        Ok(config)
    }

    /// Parses a configuration; `env` looks up environment variables (injected so tests pin them).
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text)?;
        let from_env = |slot: &mut Option<Secret>, name: &str| {
            if let Some(value) = env(name).filter(|v| !v.is_empty()) {
                *slot = Some(Secret(value));
            }
        };
        from_env(&mut config.api.token, "LAWBOT_API_TOKEN");
        from_env(&mut config.admin.token, "LAWBOT_ADMIN_TOKEN");
        if let Some(w) = &mut config.wecom {
            from_env(&mut w.token, "LAWBOT_WECOM_TOKEN");
            from_env(&mut w.encoding_aes_key, "LAWBOT_WECOM_ENCODING_AES_KEY");
            if let Some(l) = &mut w.long_connection {
                from_env(&mut l.secret, "LAWBOT_WECOM_LONG_CONNECTION_SECRET");
            }
        }
        if let Some(d) = &mut config.dingtalk {
            from_env(&mut d.app_secret, "LAWBOT_DINGTALK_APP_SECRET");
            if let Some(s) = &mut d.stream {
                from_env(&mut s.client_secret, "LAWBOT_DINGTALK_STREAM_CLIENT_SECRET");
            }
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let require = |value: &Option<Secret>, section, key, env| match value {
            Some(_) => Ok(()),
            None => Err(ConfigError::Missing { section, key, env }),
        };
        if self.server.dedup_seconds < 3600 {
            return Err(ConfigError::Invalid {
                section: "server",
                key: "dedup_seconds",
                message: "must be at least 3600 (platforms redeliver within the hour)".into(),
            });
        }
        if let Some(w) = &self.wecom {
            if w.token.is_some() || w.encoding_aes_key.is_some() {
                require(&w.token, "wecom", "token", "LAWBOT_WECOM_TOKEN")?;
                require(
                    &w.encoding_aes_key,
                    "wecom",
                    "encoding_aes_key",
                    "LAWBOT_WECOM_ENCODING_AES_KEY",
                )?;
            }
            check_path("wecom", &w.callback_path)?;
            if let Some(l) = &w.long_connection {
                require(
                    &l.secret,
                    "wecom.long_connection",
                    "secret",
                    "LAWBOT_WECOM_LONG_CONNECTION_SECRET",
                )?;
            }
        }
        if let Err(e) = self
            .reminders
            .default
            .parse::<crate::remind::ReminderSetting>()
        {
            return Err(ConfigError::Invalid {
                section: "reminders",
                key: "default",
                message: e.to_string(),
            });
        }
        if self.outbox.per_minute == 0 || self.outbox.window_seconds == 0 {
            return Err(ConfigError::Invalid {
                section: "outbox",
                key: "per_minute",
                message: "per_minute and window_seconds must be positive".into(),
            });
        }
        if let Some(d) = &self.dingtalk {
            check_path("dingtalk", &d.callback_path)?;
            if let Some(s) = &d.stream {
                require(
                    &s.client_secret,
                    "dingtalk.stream",
                    "client_secret",
                    "LAWBOT_DINGTALK_STREAM_CLIENT_SECRET",
                )?;
            }
        }
        Ok(())
    }
}

fn check_path(section: &'static str, path: &str) -> Result<(), ConfigError> {
    if path.starts_with('/') && !path.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            section,
            key: "callback_path",
            message: format!("`{path}` must start with /"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn an_empty_file_turns_every_platform_off() {
        let c = Config::parse("", no_env).unwrap();
        assert_eq!(c.wecom, None);
        assert_eq!(c.dingtalk, None);
        assert_eq!(c.server, ServerConfig::default());
    }

    #[test]
    fn defaults_and_environment_secrets_apply() {
        let text = "[wecom]\nencoding_aes_key = \"k\"\n[dingtalk]\n[dingtalk.stream]\nclient_id = \"id\"\n";
        let env = |name: &str| match name {
            "LAWBOT_WECOM_TOKEN" => Some("from-env".to_string()),
            "LAWBOT_DINGTALK_APP_SECRET" | "LAWBOT_DINGTALK_STREAM_CLIENT_SECRET" => {
                Some("s".to_string())
            }
            _ => None,
        };
        let c = Config::parse(text, env).unwrap();
        let w = c.wecom.unwrap();
        assert_eq!(w.token.unwrap().expose(), "from-env");
        assert_eq!(w.callback_path, "/wecom/callback");
        let d = c.dingtalk.unwrap();
        assert_eq!(d.callback_path, "/dingtalk/callback");
        assert_eq!(d.stream.unwrap().api_base, "https://api.dingtalk.com");
    }

    #[test]
    fn unknown_keys_and_missing_values_are_named() {
        let e =
            Config::parse("[server]\nlisten = \"127.0.0.1:1\"\nport = 3\n", no_env).unwrap_err();
        assert!(e.to_string().contains("port"), "{e}");
        let e = Config::parse("[wecom]\ntoken = \"t\"\n", no_env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "[wecom] encoding_aes_key is required (or set the environment variable LAWBOT_WECOM_ENCODING_AES_KEY)"
        );
        let e = Config::parse(
            "[dingtalk]\napp_secret = \"s\"\ncallback_path = \"x\"\n",
            no_env,
        )
        .unwrap_err();
        assert!(e.to_string().contains("callback_path"), "{e}");
    }

    #[test]
    fn a_platform_section_without_callback_keys_only_sends() {
        let c = Config::parse(
            "[wecom]\napi_base = \"http://127.0.0.1:9\"\n[dingtalk]\n",
            no_env,
        )
        .unwrap();
        assert_eq!(c.wecom.unwrap().token, None);
        assert_eq!(c.dingtalk.unwrap().api_base, "https://oapi.dingtalk.com");
        assert_eq!(c.outbox, OutboxConfig::default());
    }

    #[test]
    fn secrets_never_print() {
        let text = "[wecom]\ntoken = \"TOPSECRET\"\nencoding_aes_key = \"ALSOSECRET\"\n";
        let c = Config::parse(text, no_env).unwrap();
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("TOPSECRET") && !printed.contains("ALSOSECRET"),
            "{printed}"
        );
    }
}
