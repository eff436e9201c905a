//! The `lawbot` command line: ask, look up a clause, score a question file, check a lexicon.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use jiff::civil::Date;
use serde::Serialize;

use lawbot::engine::{Answer, Engine, Match};
use lawbot::lexicon::Source;
use lawbot::regulation::ClauseId;
use lawbot::{eval, reply};

#[derive(Parser)]
#[command(
    name = "lawbot",
    version,
    about = "律规助手: answers lawyers' questions with the clauses of the regulation"
)]
struct Cli {
    /// Load the regulation and lexicon from this folder (an edited copy of lexicon/) instead of the built-in ones.
    #[arg(long, global = true, value_name = "DIR")]
    lexicon: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer a question; without QUESTION, answer one question per line of standard input.
    Ask {
        question: Option<String>,
        /// Print one JSON object per question: {"question", "matches", "reply"}.
        #[arg(long)]
        json: bool,
        /// Also print the words, concepts and rules behind the answer.
        #[arg(long)]
        explain: bool,
        /// The date the validity notice is computed for (default: today in China).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
    },
    /// Print a clause by id (10, 12.18).
    Clause { id: ClauseId },
    /// Score the engine on a question file (id, question, gold, must, category).
    Eval {
        file: PathBuf,
        /// List the questions answered wrongly.
        #[arg(long)]
        verbose: bool,
        /// Fail unless these figures are reached, e.g. top1=95,top3=98,must3=90,oos_reject=90.
        #[arg(long, value_name = "METRIC=PERCENT,...")]
        require: Option<String>,
    },
    /// Load and check the regulation and lexicon, and say what they hold.
    Check,
    /// Run the bot: the HTTP callbacks and the long connections the configuration enables.
    Serve {
        /// The configuration file (see deploy/config.example.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Register, list, test and remove the groups that receive broadcasts and reminders.
    Group {
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: GroupAction,
    },
    /// Weekly reminders: what goes where and when.
    Remind {
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: RemindAction,
    },
    /// Questions asked per clause and per week, and the ones no clause matched.
    Stats {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 12)]
        weeks: i64,
    },
    /// Copy the database to FILE (safe while `lawbot serve` runs).
    Backup {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Compare a new version of the regulation text with the current one, clause by clause.
    Regulation {
        #[command(subcommand)]
        action: RegulationAction,
    },
    /// Send an announcement to every group (or the ones named), or show a broadcast's delivery.
    #[command(args_conflicts_with_subcommands = true)]
    Broadcast {
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        /// The announcement (markdown).
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        /// Read the announcement from a file.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        #[arg(long, default_value = "巴州区司法局通知")]
        title: String,
        /// Only these groups (repeatable); default: all.
        #[arg(long = "group", value_name = "NAME")]
        groups: Vec<String>,
        #[command(subcommand)]
        action: Option<BroadcastAction>,
    },
}

#[derive(Subcommand)]
enum GroupAction {
    /// Register a group by its robot: WeCom webhook key, or DingTalk access token and secret.
    Add {
        #[arg(long, value_parser = ["wecom", "dingtalk"])]
        platform: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        webhook_key: Option<String>,
        #[arg(long)]
        access_token: Option<String>,
        #[arg(long)]
        secret: Option<String>,
        /// A DingTalk group reached by the app robot ([dingtalk.stream]): its openConversationId.
        #[arg(long)]
        conversation_id: Option<String>,
    },
    /// List the groups, their status and last delivery (secrets masked).
    List,
    /// Remove a group and what is still queued for it.
    Remove { name: String },
    /// Send a test message to a group now.
    Test { name: String },
    /// Set a group's weekly reminder: `default`, `off`, or a day and time such as `tue 18:30`.
    Reminder { name: String, setting: String },
}

#[derive(Subcommand)]
enum RemindAction {
    /// The next weeks' reminders: time (Asia/Shanghai), topic, groups.
    Preview {
        #[arg(long, default_value_t = 4)]
        weeks: usize,
    },
}

#[derive(Subcommand)]
enum RegulationAction {
    /// What changed: added, removed, reworded, renumbered clauses, with the changed words marked.
    Diff { new: PathBuf },
    /// Check a new text against the lexicon, store it as the version in effect from DATE, and queue
    /// a change notice to every group.
    Publish {
        new: PathBuf,
        #[arg(long, value_name = "YYYY-MM-DD")]
        effective: Date,
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<Date>,
        /// e.g. 试行, 正式施行 (default: the current version's).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// The published versions, and which one is in effect today.
    Versions {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BroadcastAction {
    /// The delivery report of a broadcast.
    Status { id: i64 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lawbot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let lexicon = cli.lexicon.as_deref();
    match cli.command {
        Command::Ask {
            question,
            json,
            explain,
            today,
        } => ask_command(
            &load(lexicon)?,
            question,
            json,
            explain,
            today.unwrap_or_else(today_in_china),
        ),
        Command::Clause { id } => clause(&load(lexicon)?, id),
        Command::Eval {
            file,
            verbose,
            require,
        } => eval_command(&load(lexicon)?, &file, verbose, require.as_deref()),
        Command::Check => check(&load(lexicon)?),
        Command::Serve { config } => serve(&config, lexicon),
        Command::Group { config, action } => group(config.as_deref(), &action),
        Command::Broadcast {
            config,
            text,
            file,
            title,
            groups,
            action,
        } => broadcast(
            config.as_deref(),
            text.as_deref(),
            file.as_deref(),
            &title,
            &groups,
            action.as_ref(),
        ),
        Command::Remind {
            config,
            action: RemindAction::Preview { weeks },
        } => {
            let config = admin_config(config.as_deref())?;
            let store = lawbot::admin::open_store(&config)?;
            let default = config.reminders.default.parse()?;
            let preview = lawbot::admin::remind_preview(
                &store,
                &load(lexicon)?,
                default,
                weeks,
                jiff::Timestamp::now(),
            )?;
            print!("{preview}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats { config, weeks } => {
            let config = admin_config(config.as_deref())?;
            let store = lawbot::admin::open_store(&config)?;
            print!(
                "{}",
                lawbot::admin::stats_report(&store, &load(lexicon)?, weeks)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Regulation { action } => regulation(lexicon, action),
        Command::Backup { file, config } => {
            let config = admin_config(config.as_deref())?;
            lawbot::admin::open_store(&config)?.backup(&file)?;
            println!("backed up to {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn ask_command(
    engine: &Engine,
    question: Option<String>,
    json: bool,
    explain: bool,
    today: Date,
) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match question {
        Some(q) => ask(engine, &q, json, explain, today, &mut out)?,
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line.context("reading standard input")?;
                if !line.trim().is_empty() {
                    ask(engine, &line, json, explain, today, &mut out)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn clause(engine: &Engine, id: ClauseId) -> Result<ExitCode> {
    let Some(clause) = engine.regulation.get(id) else {
        let articles = engine
            .regulation
            .clauses()
            .iter()
            .filter(|c| c.id.item.is_none())
            .count();
        let items = engine
            .regulation
            .list_article()
            .map_or(String::new(), |list| {
                format!(", items {0}.1–{0}.{1}", list.id.article, list.items.len())
            });
        bail!("clause {id} is not in the regulation (articles 1–{articles}{items})");
    };
    println!("{}\n{}", clause.citation, clause.text);
    for item in &clause.items {
        if let Some(c) = engine.regulation.get(*item) {
            println!(
                "（{}）{}",
                lawbot::numerals::to_chinese(item.item.unwrap_or(0).into()),
                c.text
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn eval_command(
    engine: &Engine,
    file: &std::path::Path,
    verbose: bool,
    require: Option<&str>,
) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let cases = eval::parse(&text).with_context(|| format!("{}", file.display()))?;
    let report = eval::run(engine, &cases);
    print!("{}", report.render(verbose));
    let mut failed = false;
    for spec in require.unwrap_or("").split(',').filter(|s| !s.is_empty()) {
        let (name, min) = spec
            .split_once('=')
            .context("--require takes METRIC=PERCENT")?;
        let min: f64 = min
            .trim_end_matches('%')
            .parse()
            .with_context(|| format!("`{min}` is not a percentage"))?;
        let Some(value) = report.total.metric(name) else {
            bail!("unknown metric `{name}`")
        };
        if value < min {
            eprintln!("lawbot eval: {name}={value:.1}% is below the required {min}%");
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn check(engine: &Engine) -> Result<ExitCode> {
    let concepts = &engine.lexicon.concepts;
    let expressions: usize = concepts.iter().map(|c| c.expressions.len()).sum();
    let ruled: std::collections::BTreeSet<ClauseId> =
        engine.lexicon.rules.iter().map(|r| r.clause).collect();
    let unruled: Vec<String> = engine
        .regulation
        .clauses()
        .iter()
        .filter(|c| !ruled.contains(&c.id))
        .map(|c| c.id.to_string())
        .collect();
    println!(
        "ok: {} clauses, {} user words, {} concepts, {} expressions, {} rules",
        engine.regulation.clauses().len(),
        engine.lexicon.user_words.len(),
        concepts.len(),
        expressions,
        engine.lexicon.rules.len()
    );
    if !unruled.is_empty() {
        println!(
            "clauses no rule points at (reachable by number only): {}",
            unruled.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(config: &std::path::Path, lexicon: Option<&std::path::Path>) -> Result<ExitCode> {
    let config =
        lawbot::config::Config::load(config).with_context(|| format!("{}", config.display()))?;
    let base = source(lexicon)?;
    let engine = std::sync::Arc::new(Engine::load(&base).context("the lexicon is broken")?);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match config.server.log_format {
        lawbot::config::LogFormat::Json => logs.json().init(),
        // Colours for a person at a terminal; plain lines for journald and log files.
        lawbot::config::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(lawbot::service::run(config, engine, base))?;
    Ok(ExitCode::SUCCESS)
}

fn regulation(lexicon: Option<&std::path::Path>, action: RegulationAction) -> Result<ExitCode> {
    let engine = load(lexicon)?;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    match action {
        RegulationAction::Diff { new } => {
            let text = read(&new)?;
            let new_version = lawbot::regulation::Regulation::parse(&text)
                .with_context(|| format!("{}", new.display()))?;
            print!(
                "{}",
                lawbot::regulation::render(&lawbot::regulation::diff(
                    &engine.regulation,
                    &new_version
                ))
            );
        }
        RegulationAction::Publish {
            new,
            effective,
            expires,
            status,
            config,
        } => {
            let config = admin_config(config.as_deref())?;
            let store = lawbot::admin::open_store(&config)?;
            let base = source(lexicon)?;
            let in_effect = lawbot::publish::engine_in_effect(
                &store,
                &base,
                std::sync::Arc::new(engine),
                today_in_china(),
            );
            let (current, _) = in_effect?;
            let text = read(&new)?;
            let text = lawbot::publish::NewText {
                text: &text,
                effective,
                expires,
                status: status.as_deref(),
            };
            let published = lawbot::publish::publish(&store, &base, &current, text)?;
            print!("{}", published.report);
            println!(
                "published as version {}, in effect from {effective}",
                published.version
            );
            match published.broadcast {
                Some(id) => println!(
                    "change notice queued as broadcast {id} (lawbot broadcast status {id})"
                ),
                None => println!("no groups registered: no change notice queued"),
            }
        }
        RegulationAction::Versions { config } => {
            let config = admin_config(config.as_deref())?;
            let store = lawbot::admin::open_store(&config)?;
            print!(
                "{}",
                lawbot::admin::versions_table(&store, &engine, &today_in_china().to_string())?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The configuration of an admin command: `--config FILE`, or defaults (database `lawbot.db` here).
fn admin_config(path: Option<&std::path::Path>) -> Result<lawbot::config::Config> {
    match path {
        Some(p) => lawbot::config::Config::load(p).with_context(|| format!("{}", p.display())),
        None => lawbot::config::Config::parse("", |_| None).context("the default configuration"),
    }
}

fn group(config: Option<&std::path::Path>, action: &GroupAction) -> Result<ExitCode> {
    let config = admin_config(config)?;
    let store = lawbot::admin::open_store(&config)?;
    match action {
        GroupAction::Add {
            platform,
            name,
            webhook_key,
            access_token,
            secret,
            conversation_id,
        } => {
            let fields = lawbot::admin::RobotFields {
                webhook_key: webhook_key.clone(),
                access_token: access_token.clone(),
                secret: secret.clone(),
                conversation_id: conversation_id.clone(),
            };
            let new = lawbot::admin::new_group(platform, name, fields)?;
            let group = store.add_group(&new)?;
            println!(
                "added group {} ({}, {})",
                group.name,
                group.robot.platform(),
                group.robot.masked()
            );
        }
        GroupAction::List => print!("{}", lawbot::admin::group_table(&store.groups()?)),
        GroupAction::Reminder { name, setting } => {
            if setting != "default" {
                setting.parse::<lawbot::remind::ReminderSetting>()?;
            }
            store.set_reminder(name, setting)?;
            println!("{name}: weekly reminder {setting}");
        }
        GroupAction::Remove { name } => {
            store.remove_group(name)?;
            println!("removed group {name}");
        }
        GroupAction::Test { name } => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let runtime = tokio::runtime::Runtime::new()?;
            println!(
                "{}",
                runtime.block_on(lawbot::admin::test_group(&store, &config, name))?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn broadcast(
    config: Option<&std::path::Path>,
    text: Option<&str>,
    file: Option<&std::path::Path>,
    title: &str,
    groups: &[String],
    action: Option<&BroadcastAction>,
) -> Result<ExitCode> {
    let config = admin_config(config)?;
    let store = lawbot::admin::open_store(&config)?;
    if let Some(BroadcastAction::Status { id }) = action {
        print!("{}", lawbot::admin::report(&store, *id)?);
        return Ok(ExitCode::SUCCESS);
    }
    let body = match (text, file) {
        (Some(t), _) => t.to_string(),
        (None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        }
        (None, None) => bail!("give the announcement with --text or --file"),
    };
    let (id, count) = lawbot::admin::broadcast(&store, title, &body, groups)?;
    println!(
        "broadcast {id} queued for {count} groups; `lawbot serve` delivers it (see `lawbot broadcast status {id}`)"
    );
    Ok(ExitCode::SUCCESS)
}

/// The built-in regulation and lexicon, or an edited copy from `--lexicon DIR`.
fn source(dir: Option<&std::path::Path>) -> Result<Source> {
    match dir {
        None => Ok(Source::builtin()),
        Some(dir) => Source::from_dir(dir).with_context(|| format!("reading {}", dir.display())),
    }
}

fn load(dir: Option<&std::path::Path>) -> Result<Engine> {
    let broken = match dir {
        None => "the built-in lexicon is broken".to_string(),
        Some(dir) => format!("loading the lexicon in {}", dir.display()),
    };
    Engine::load(&source(dir)?).context(broken)
}

/// Today's date in China (UTC+8 all year), whatever the machine's time zone.
fn today_in_china() -> Date {
    let offset = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    jiff::Timestamp::now().to_zoned(offset).date()
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    question: &'a str,
    intent: lawbot::Intent,
    matches: &'a [Match],
    reply: String,
}

fn ask(
    engine: &Engine,
    question: &str,
    json: bool,
    explain: bool,
    today: Date,
    out: &mut impl Write,
) -> Result<()> {
    let answer: Answer = engine.answer(question);
    let text = reply::render(engine, &answer, today);
    if json {
        let object = JsonAnswer {
            question,
            intent: answer.intent,
            matches: &answer.matches,
            reply: text,
        };
        writeln!(out, "{}", serde_json::to_string(&object)?)?;
    } else {
        writeln!(out, "{text}")?;
    }
    if explain {
        writeln!(out, "words: {}", engine.segment(question).join(" / "))?;
        writeln!(out, "concepts: {}", engine.concepts(question).join(" "))?;
        for m in &answer.matches {
            writeln!(
                out,
                "{} score={} via={:?} rules.txt lines={:?}",
                m.id, m.score, m.via, m.rules
            )?;
        }
    }
    Ok(())
}
