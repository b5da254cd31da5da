//! Child processes of the `runroom` binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Sends SIGTERM and waits (polling, at most 20 s) for the process to exit.
pub fn terminate(child: &mut Child) -> ExitStatus {
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
        std::thread::sleep(Duration::from_millis(20));
    }
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
