//! The `runroom` binary as a user runs it: the console on piped input (a line that is not UTF-8
//! included), `config check`, `migrate`, `backup`, `incidents list|show`, and `serve` answering
//! `/healthz`, reporting every metric series from its first scrape, and stopping cleanly on
//! SIGTERM.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_runroom"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("RUNROOM_CONFIG")
            .env_remove("RUNROOM_DATABASE_URL")
            .env_remove("RUNROOM_LISTEN")
            .env("USER", "joana")
            .env("TZ", "America/Sao_Paulo");
        cmd
    }

    /// Runs `runroom ARGS` with `input` on stdin.
    fn run(&self, args: &[&str], input: &str) -> Output {
        self.run_with_env(args, input, &[])
    }

    /// [`Sandbox::run`] with more environment variables.
    fn run_with_env(&self, args: &[&str], input: &str, env: &[(&str, &str)]) -> Output {
        self.run_bytes(args, input.as_bytes(), env)
    }

    /// [`Sandbox::run_with_env`] with stdin as raw bytes (not necessarily UTF-8).
    fn run_bytes(&self, args: &[&str], input: &[u8], env: &[(&str, &str)]) -> Output {
        let mut child = self
            .command(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn console_reads_piped_input_and_state_persists_between_runs() {
    let s = Sandbox::new();
    let first = s.run(
        &["console"],
        "inc declare sev1 \"Checkout down\"\ninc list\n",
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(
        out.contains("🚨 INC-1 declared — SEV1 (critical): Checkout down"),
        "{out}"
    );
    assert!(out.contains("declared by joana"), "{out}");
    assert!(out.contains("1 open incident, most severe first:"), "{out}");
    assert!(
        s.dir.path().join("runroom.db").exists(),
        "the default database is sqlite://runroom.db"
    );

    let second = s.run(
        &["console", "--locale", "pt-BR"],
        "inc declarar sev2 Rastreio lento\ninc listar\n",
    );
    assert!(second.status.success(), "{}", stderr(&second));
    let out = stdout(&second);
    assert!(
        out.contains("INC-2 declarado — SEV2 (alto): Rastreio lento"),
        "{out}"
    );
    assert!(out.contains("2 incidentes abertos"), "{out}");
    assert!(out.contains("INC-1 · SEV1 (crítico)"), "{out}");

    let list = s.run(&["incidents", "list"], "");
    assert!(list.status.success());
    assert!(
        stdout(&list).contains("2 open incidents:"),
        "{}",
        stdout(&list)
    );
    let show = s.run(&["incidents", "show", "INC-1", "--locale", "es"], "");
    assert!(show.status.success());
    assert!(
        stdout(&show).contains("INC-1 — Checkout down"),
        "{}",
        stdout(&show)
    );
    assert!(
        stdout(&show).contains("declarado SEV1 (crítico): Checkout down"),
        "{}",
        stdout(&show)
    );
    let missing = s.run(&["incidents", "show", "INC-9"], "");
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no incident INC-9"),
        "{}",
        stderr(&missing)
    );

    // The postmortem draft, in Spanish and in the asked zone, as Markdown or JSON.
    let draft = s.run(
        &[
            "incidents",
            "postmortem",
            "INC-1",
            "--locale",
            "es",
            "--timezone",
            "America/Bogota",
        ],
        "",
    );
    assert!(draft.status.success(), "{}", stderr(&draft));
    let out = stdout(&draft);
    assert!(
        out.starts_with("# Borrador de postmortem: INC-1 · Checkout down"),
        "{out}"
    );
    assert!(
        out.contains("## Línea de tiempo") && out.contains("-05"),
        "{out}"
    );
    let json = s.run(&["incidents", "postmortem", "1", "--format", "json"], "");
    assert!(json.status.success(), "{}", stderr(&json));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    assert_eq!(value["id"], "INC-1");
    let report = s.run(&["report", "--since", "30d", "--locale", "es"], "");
    assert!(report.status.success(), "{}", stderr(&report));
    let out = stdout(&report);
    assert!(
        out.contains("Incidentes declarados desde") && out.contains("SEV1 (crítico): 1 incidentes"),
        "{out}"
    );
    let bad = s.run(
        &[
            "incidents",
            "postmortem",
            "INC-1",
            "--timezone",
            "Mars/Base",
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("not a time zone"), "{}", stderr(&bad));
}

/// The operator's list reads a page of 100 at a time, says how many are left and how to see them,
/// and refuses a page past the end.
#[test]
fn incidents_list_pages_the_open_incidents() {
    let s = Sandbox::new();
    let declares: String = (1..=102)
        .map(|i| format!("inc declare sev3 Load {i}\n"))
        .collect();
    let seeded = s.run(&["console"], &declares);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let items = |out: &str| out.lines().filter(|l| l.starts_with("• INC-")).count();

    let first = s.run(&["incidents", "list"], "");
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(out.contains("102 open incidents:"), "{out}");
    assert_eq!(items(&out), 100, "{out}");
    assert!(out.contains("• INC-1 · SEV3"), "oldest first: {out}");
    assert!(
        out.contains("…and 2 more. Next page: runroom incidents list --page 2"),
        "{out}"
    );

    let second = s.run(
        &["incidents", "list", "--page", "2", "--locale", "pt-BR"],
        "",
    );
    assert!(second.status.success(), "{}", stderr(&second));
    let out = stdout(&second);
    assert!(out.contains("102 incidentes abertos:"), "{out}");
    assert_eq!(items(&out), 2, "{out}");
    assert!(
        out.contains("• INC-101 ·") && out.contains("• INC-102 ·"),
        "{out}"
    );
    assert!(
        !out.contains("--page"),
        "the last page points nowhere: {out}"
    );

    let past = s.run(&["incidents", "list", "--page", "3"], "");
    assert!(!past.status.success());
    assert!(
        stderr(&past).contains("there is no page 3: 102 open incidents fill 2 pages"),
        "{}",
        stderr(&past)
    );
    let zero = s.run(&["incidents", "list", "--page", "0"], "");
    assert!(!zero.status.success(), "pages start at 1");
    let both = s.run(&["incidents", "list", "--all", "--page", "2"], "");
    assert!(!both.status.success(), "--all has no pages");
    let all = s.run(&["incidents", "list", "--all"], "");
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(items(&stdout(&all)), 102, "--all: the latest, one page");
}

#[test]
fn console_broadcasts_preview_other_rooms_and_answers_every_line() {
    let s = Sandbox::new();
    let config = s.write("runroom.toml", common::room_toml("campo"));
    let out = s.run(
        &["--config", &config, "console"],
        "inc declare sev2 Tracking stale\nhello there\ninc nope\n\ninc declare \"unterminated\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("↪ to campo (whatsapp, pt-BR):"), "{text}");
    assert!(
        text.contains("    🚨 INC-1 declarado — SEV2 (alto): Tracking stale"),
        "{text}"
    );
    assert!(text.contains("Not a command"), "{text}");
    assert!(text.contains("I don't know the command “nope”"), "{text}");
    assert!(text.contains("A quote is not closed"), "{text}");
}

#[test]
fn config_check_names_the_field_and_the_problem() {
    let s = Sandbox::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/runroom.toml");
    let ok = s.run(&["config", "check", example], "");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok)
            .contains("ok (7 rooms, 3 alert sources, 3 alert routes, 2 heartbeats, 7 playbooks, access: responders 3, admins 1, responder rooms 1, admin rooms 0"),
        "{}",
        stdout(&ok)
    );

    let bad = s.write(
        "bad.toml",
        "[[rooms]]\nid = \"ops\"\nplatform = \"slack\"\nchat = \"C1\"\ntimezone = \"America/Sao Paulo\"\n",
    );
    let out = s.run(&["config", "check", &bad], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("rooms[0].timezone") && err.contains("not an IANA time zone"),
        "{err}"
    );

    let route = s.write(
        "route.toml",
        "[[rooms]]\nid = \"ops\"\nplatform = \"slack\"\nchat = \"C1\"\n\n[[alert_routes]]\nmatchers = ['service =~ \"(api\"']\nrooms = [\"ops\"]\n",
    );
    let out = s.run(&["config", "check", &route], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("alert_routes[0].matchers[0]") && err.contains("not a regular expression"),
        "{err}"
    );

    let playbook = s.write(
        "playbook.toml",
        "[[playbooks]]\nid = \"p0\"\ntitle = \"Delivery failure\"\nescalation = \"nobody\"\n",
    );
    let out = s.run(&["config", "check", &playbook], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("playbooks[0].escalation") && err.contains("not an [[escalation]] id"),
        "{err}"
    );

    let access = s.write(
        "access.toml",
        "[[people]]\nid = \"joana\"\nslack = \"U0J\"\n\n[access]\nresponders = [\"joana\", \"nobody\"]\n",
    );
    let out = s.run(&["config", "check", &access], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("access.responders") && err.contains("\"nobody\" is not a [[people]] id"),
        "{err}"
    );

    let missing = s.run(&["config", "check", "nowhere.toml"], "");
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("cannot read nowhere.toml"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn migrate_creates_the_database() {
    let s = Sandbox::new();
    let out = s.run(&["migrate"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("migrations applied (sqlite)"));
    assert!(s.dir.path().join("runroom.db").exists());
}

/// Runs `runroom serve` in the sandbox, `visit` against its base URL, then SIGTERM: what
/// `visit` gave and how the process exited.
fn while_serving<T, F>(
    s: &Sandbox,
    visit: impl FnOnce(String) -> F,
) -> (T, std::process::ExitStatus)
where
    F: std::future::Future<Output = T>,
{
    let (mut child, url) =
        common::process::spawn_serve(&mut s.command(&["serve", "--listen", "127.0.0.1:0"]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen = runtime.block_on(visit(url));
    (
        seen,
        runtime.block_on(common::process::terminate(&mut child)),
    )
}

#[test]
fn serve_answers_health_checks_and_stops_on_sigterm() {
    let s = Sandbox::new();
    let ((), status) = while_serving(&s, |url| async move {
        let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
        assert_eq!(health.status(), 200);
        let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
        assert_eq!(ready.status(), 200);
    });
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn jobs_lists_what_the_scheduler_planned() {
    let s = Sandbox::new();
    let out = s.run(&["console"], "inc declare sev1 \"Checkout down\"\n");
    assert!(out.status.success(), "{}", stderr(&out));
    // SEV1: the update reminder 15 minutes after the declaration.
    let jobs = s.run(&["jobs"], "");
    assert!(jobs.status.success(), "{}", stderr(&jobs));
    let listed = stdout(&jobs);
    assert!(
        listed.contains("reminder") && listed.contains("reminder:1:"),
        "{listed}"
    );
    let bad = s.run(&["jobs", "--state", "later"], "");
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("not a job state"), "{}", stderr(&bad));
}

/// The value of `name=` in a log line (up to the next space, `}` or `:`-free end).
fn field<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    let start = line.find(&format!("{name}="))? + name.len() + 1;
    let rest = &line[start..];
    let end = rest.find([' ', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"'))
}

#[test]
fn one_command_can_be_followed_in_the_debug_log_from_line_to_delivery() {
    let sandbox = Sandbox::new();
    let out = sandbox.run_with_env(
        &["console"],
        "inc declare sev1 Checkout down\n",
        &[("RUNROOM_LOG", "runroom=debug")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = stderr(&out);
    // The command: its span names the room, the dedupe key (hashed: a key can carry personal
    // data), the verb and the incident.
    let committed = logs
        .lines()
        .find(|l| l.contains("command committed"))
        .unwrap_or_else(|| panic!("no committed command in the log:\n{logs}"));
    let key = field(committed, "key").expect("the dedupe key");
    assert!(
        key.len() == 12 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "{committed}"
    );
    assert_eq!(field(committed, "room"), Some("console"), "{committed}");
    assert_eq!(field(committed, "verb"), Some("declare"), "{committed}");
    assert_eq!(field(committed, "incident"), Some("1"), "{committed}");
    assert!(
        committed.contains("inbound{"),
        "inside the inbound span: {committed}"
    );
    // Its message: the send span carries the outbox id and the key of the command it came from.
    let delivered = logs
        .lines()
        .find(|l| l.contains("delivered") && field(l, "key") == Some(key))
        .unwrap_or_else(|| panic!("no delivery of {key} in the log:\n{logs}"));
    assert!(field(delivered, "outbox_id").is_some(), "{delivered}");
    assert_eq!(field(delivered, "room"), Some("console"), "{delivered}");
    assert_eq!(field(delivered, "incident"), Some("1"), "{delivered}");
}

#[test]
fn the_console_skips_a_line_that_is_not_utf8_and_reads_on() {
    let s = Sandbox::new();
    let out = s.run_bytes(
        &["console"],
        b"inc declare sev2 \"Queue backlog\"\ninc note \xff\xfe garbled\r\ninc note consumers restarted\n",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("not UTF-8"), "{said}");
    let shown = s.run(&["incidents", "show", "INC-1"], "");
    let shown = stdout(&shown);
    assert!(
        shown.contains("consumers restarted"),
        "the line after it was read: {shown}"
    );
    assert!(!shown.contains("garbled"), "{shown}");
}

#[test]
fn backup_copies_the_database_while_it_is_open_and_the_copy_restores() {
    let s = Sandbox::new();
    let out = s.run(&["console"], "inc declare sev1 \"Checkout down\"\n");
    assert!(out.status.success(), "{}", stderr(&out));
    // Another connection holds a read transaction open: the copy is taken all the same.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = format!("sqlite://{}", s.dir.path().join("runroom.db").display());
    let reader = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM incidents")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 1);
        (pool, tx)
    });
    let backup = s.run(&["backup", "copy.db"], "");
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(stdout(&backup).contains("copy.db"), "{}", stdout(&backup));
    runtime.block_on(async move {
        let (pool, tx) = reader;
        tx.rollback().await.unwrap();
        pool.close().await;
    });

    let again = s.run(&["backup", "copy.db"], "");
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    let copy = format!("sqlite://{}", s.dir.path().join("copy.db").display());
    let listed = s.run_with_env(
        &["incidents", "list"],
        "",
        &[("RUNROOM_DATABASE_URL", &copy)],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains("Checkout down"),
        "{}",
        stdout(&listed)
    );

    let postgres = s.run_with_env(
        &["backup", "pg.sql"],
        "",
        &[(
            "RUNROOM_DATABASE_URL",
            "postgres://runroom:secret@127.0.0.1:1/runroom",
        )],
    );
    assert!(!postgres.status.success());
    let said = stderr(&postgres);
    assert!(
        said.contains("pg_dump") && !said.contains("secret"),
        "{said}"
    );
}

#[test]
fn a_fresh_serve_reports_every_metric_series_from_the_first_scrape() {
    use runroom::http::series;
    let s = Sandbox::new();
    let (body, _) = while_serving(&s, |url| async move {
        let metrics = reqwest::get(format!("{url}/metrics")).await.unwrap();
        assert_eq!(metrics.status(), 200);
        metrics.text().await.unwrap()
    });
    for name in [
        series::COUNTERS,
        series::PER_PLATFORM,
        series::PER_SEVERITY,
        series::HISTOGRAMS,
        series::OTHERS,
    ]
    .concat()
    {
        // Per alert source and per heartbeat: none are configured here.
        if [
            "runroom_alerts_received_total",
            "runroom_heartbeat_pings_total",
        ]
        .contains(&name)
        {
            continue;
        }
        assert!(
            body.contains(name),
            "{name} is missing before any event:\n{body}"
        );
    }
    for series in [
        "runroom_commands_total{verb=\"declare\",ok=\"true\"} 0",
        "runroom_commands_total{verb=\"invalid\",ok=\"false\"} 0",
        "runroom_outbox_sent_total{platform=\"whatsapp\"} 0",
        "runroom_outbox_messages{platform=\"slack\",state=\"dead\"} 0",
        "runroom_inbound_rejected_total{platform=\"telegram\"} 0",
        "runroom_jobs_fired_total{kind=\"reminder\"} 0",
    ] {
        assert!(body.contains(series), "{series}:\n{body}");
    }
}

/// `deploy/runroom.service` passes `systemd-analyze verify` (with this build's binary in its
/// `ExecStart`), warnings included; SKIPPED where systemd's tools are not installed.
#[test]
fn the_systemd_unit_verifies() {
    let Ok(analyze) = which("systemd-analyze") else {
        eprintln!("SKIPPED: systemd-analyze is not installed");
        return;
    };
    let s = Sandbox::new();
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/runroom.service"
    ))
    .unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/runroom serve"));
    let here = unit.replace("/usr/local/bin/runroom", env!("CARGO_BIN_EXE_runroom"));
    let path = s.write("runroom.service", &here);
    let out = Command::new(analyze)
        .args(["verify", &path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).trim().is_empty(),
        "no warnings: {}",
        stderr(&out)
    );
}

fn which(program: &str) -> Result<String, ()> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| format!("{dir}/{program}"))
        .find(|path| std::path::Path::new(path).is_file())
        .ok_or(())
}
