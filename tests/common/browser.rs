//! A real browser for the dashboard's tests and screenshots: Debian's `chromium`, headless,
//! driven over WebDriver by `chromium-driver` on a port of its choosing, with fantoccini as the
//! client.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// How long the driver is given to start.
const START: Duration = Duration::from_secs(20);

/// Where Debian puts the browser and its driver.
pub fn programs() -> Option<(&'static str, &'static str)> {
    let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    Some((browser, driver))
}

/// `chromedriver` on a port of its choosing, killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start(program: &str) -> Driver {
        let mut child = Command::new(program)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = child.stdout.take().expect("its output");
        // "ChromeDriver was started successfully on port 40123." Its output is read to the end
        // on a thread of its own, so the driver never writes into a closed pipe.
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("started successfully")
                    && let Some(rest) = line.split("on port ").nth(1)
                {
                    let _ = port_tx.send(rest.trim_end_matches('.').trim().to_string());
                }
            }
        });
        let port = port_rx
            .recv_timeout(START)
            .expect("chromedriver says its port");
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless browser with a window of `width` × `height`, in English unless told otherwise.
pub async fn browser(driver: &Driver, binary: &str, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     &format!("--window-size={width},{height}"), "--lang=en-US"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}
