//! Child processes of the `runroom` binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Sends SIGTERM and waits (polling, at most 20 s) for the process to exit. It waits without
/// blocking the runtime: the fake platforms a test serves on it must go on answering while the
/// process finishes the sends it started, or a stopping process would wait on them until its
/// requests time out.
pub async fn terminate(child: &mut Child) -> ExitStatus {
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -TERM failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the process did not stop within 20 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes `runroom.toml` into `dir`: `serve` on a free loopback port with its database at
/// `database_url`, then `rest` (rooms, platforms, tuning). Returns the file's path.
pub fn serve_config(dir: &Path, database_url: &str, rest: &str) -> String {
    // A SQLite file keeps its journal beside it; with Postgres it would be the working
    // directory's, shared by every test.
    let journal = if database_url.starts_with("sqlite:") {
        String::new()
    } else {
        format!("journal = \"{}\"\n", dir.join("inbound.journal").display())
    };
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n{journal}\n[database]\nurl = \"{database_url}\"\n{rest}"
    );
    let path = dir.join("runroom.toml");
    std::fs::write(&path, text).expect("write runroom.toml");
    path.display().to_string()
}

/// `runroom --config CONFIG serve`, blind to the machine's `RUNROOM_CONFIG` and
/// `RUNROOM_DATABASE_URL`; a test adds the secrets it means with `.env`.
pub fn serve_command(config: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runroom"));
    command
        .args(["--config", config, "serve"])
        .env_remove("RUNROOM_DATABASE_URL")
        .env_remove("RUNROOM_CONFIG");
    command
}

/// Makes `command` one replica of several sharing a config file: each process keeps an inbound
/// journal of its own (`inbound-NAME.journal` in `dir`), as each machine would.
pub fn replica(command: &mut Command, dir: &Path, name: &str) {
    command.env(
        "RUNROOM_SERVER_JOURNAL",
        dir.join(format!("inbound-{name}.journal")),
    );
}

/// Starts `runroom serve` from a prepared command and returns it with the base URL it printed
/// once listening (`runroom listening on http://…`).
pub fn spawn_serve(command: &mut Command) -> (Child, String) {
    spawn_serve_logging(command, Stdio::null())
}

/// [`spawn_serve`], with the process's logs (stderr) going to `logs`.
pub fn spawn_serve_logging(command: &mut Command, logs: impl Into<Stdio>) -> (Child, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(logs)
        .spawn()
        .expect("spawn runroom serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("read the first line");
    let url = line
        .trim()
        .strip_prefix("runroom listening on ")
        .unwrap_or_else(|| panic!("serve did not start: {line:?}"))
        .to_string();
    (child, url)
}
