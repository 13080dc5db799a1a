//! A small W3C WebDriver client over reqwest, for Debian's `chromedriver`
//! driving headless `chromium`: sessions, navigation, elements, scripts,
//! screenshots and the browser console log. Only what the storefront tests
//! use; every call fails loudly with the driver's own error.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `find` and `wait_until` wait before failing.
pub const WAIT: Duration = Duration::from_secs(15);

/// A `chromedriver` process on a loopback port, killed on drop.
pub struct Driver {
    child: Child,
    url: String,
    _profiles: tempfile::TempDir,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Driver {
    /// Starts `chromedriver` (from `CHROMEDRIVER` or the PATH) and waits until it is ready.
    pub async fn start() -> Driver {
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} starts: {e}"));
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let driver = Driver {
            child,
            url,
            _profiles: tempfile::tempdir().expect("profiles dir"),
            client,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = driver
                .client
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if ready.is_some() {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless Chromium window of `width` x `height` with its own profile.
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir_in(self._profiles.path()).expect("profile");
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-extensions".into(),
            "--disable-background-networking".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Ok(extra) = std::env::var("STOREFRONT_CHROMIUM_ARGS") {
            args.extend(extra.split_whitespace().map(String::from));
        }
        let mut options = json!({ "args": args });
        if width < 500 {
            // Chromium's windows are at least 500 px wide: a phone needs emulation.
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 1.0, "touch": true, "mobile": true,
            }});
        }
        if let Ok(binary) = std::env::var("CHROMIUM") {
            options["binary"] = json!(binary);
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let res: Value = self
            .client
            .post(format!("{}/session", self.url))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_string();
        Browser {
            client: self.client.clone(),
            base: format!("{}/session/{id}", self.url),
            _profile: profile,
        }
    }
}

/// One browser session.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    _profile: tempfile::TempDir,
}

/// A reference to an element of the current page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("webdriver request");
        let status = res.status();
        let value: Value = res.json().await.expect("webdriver json");
        assert!(status.is_success(), "webdriver {path}: {status} {value}");
        value["value"].clone()
    }

    async fn try_call(&self, path: &str, body: Value) -> Result<Value, Value> {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("webdriver request");
        let ok = res.status().is_success();
        let value: Value = res.json().await.expect("webdriver json");
        if ok {
            Ok(value["value"].clone())
        } else {
            Err(value)
        }
    }

    /// Opens `url` and waits for the document to load.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The history's back button.
    pub async fn back(&self) {
        self.call(reqwest::Method::POST, "/back", Some(json!({})))
            .await;
    }

    /// The address shown in the location bar.
    pub async fn url(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/url", None).await;
        v.as_str().expect("url").to_string()
    }

    /// Runs `script` (a function body; `arguments` available) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Waits until `css` matches an element and returns the first.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            let body = json!({ "using": "css selector", "value": css });
            if let Ok(v) = self.try_call("/element", body).await
                && let Some(id) = v[ELEMENT].as_str()
            {
                return Element(id.to_string());
            }
            if Instant::now() > deadline {
                let text = self.main_text().await;
                panic!("no element matches {css:?}; the page says:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the JavaScript expression `condition` is truthy.
    pub async fn wait_until(&self, condition: &str) {
        let deadline = Instant::now() + WAIT;
        let script = format!("return Boolean({condition});");
        loop {
            if self.js(&script, vec![]).await == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "still false: {condition}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until some element matching `css` shows `text`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        let condition = format!(
            "[...document.querySelectorAll({})].some(e => e.textContent.includes({}))",
            json!(css),
            json!(text)
        );
        self.wait_until(&condition).await;
    }

    /// The text of the page's main region.
    pub async fn main_text(&self) -> String {
        let v = self
            .js("return document.getElementById('main').innerText;", vec![])
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// Clicks the element like a person (WebDriver's element click, which
    /// scrolls it into view). When Chromium reports the click as
    /// intercepted (seen with long forms in headless windows: the element
    /// stays below the viewport), the element's own `click()` is used.
    pub async fn click(&self, el: &Element) {
        let path = format!("/element/{}/click", el.0);
        if let Err(err) = self.try_call(&path, json!({})).await {
            let intercepted = err["value"]["error"] == "element click intercepted";
            assert!(intercepted, "webdriver click: {err}");
            let mut reference = serde_json::Map::new();
            reference.insert(ELEMENT.to_string(), Value::String(el.0.clone()));
            self.js("arguments[0].click();", vec![Value::Object(reference)])
                .await;
        }
    }

    /// Clicks the first element matching `css`.
    pub async fn click_css(&self, css: &str) {
        let el = self.find(css).await;
        self.click(&el).await;
    }

    /// Replaces the value of the field matching `css` by typing `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        let clear = format!("/element/{}/clear", el.0);
        self.call(reqwest::Method::POST, &clear, Some(json!({})))
            .await;
        let keys = format!("/element/{}/value", el.0);
        self.call(reqwest::Method::POST, &keys, Some(json!({ "text": text })))
            .await;
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(v.as_str().expect("base64 png"));
        std::fs::write(path, png).expect("screenshot written");
    }

    /// The browser console entries since the last call (level, message).
    pub async fn console(&self) -> Vec<(String, String)> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({ "type": "browser" })),
            )
            .await;
        v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        let level = e["level"].as_str().unwrap_or_default().to_string();
                        let message = e["message"].as_str().unwrap_or_default().to_string();
                        (level, message)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Presses and releases `key` (a WebDriver key code such as `"\u{E004}"`, Tab) on the focused element.
    pub async fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key},
        ]}]});
        self.call(reqwest::Method::POST, "/actions", Some(actions))
            .await;
    }

    /// Opens a new tab of the same browser (same profile and storage) and returns its handle.
    pub async fn new_tab(&self) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/window/new",
                Some(json!({ "type": "tab" })),
            )
            .await;
        v["handle"].as_str().expect("window handle").to_string()
    }

    /// The current tab's handle.
    pub async fn tab(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/window", None).await;
        v.as_str().expect("window handle").to_string()
    }

    /// Makes the tab `handle` the one the next commands act on.
    pub async fn switch_to(&self, handle: &str) {
        self.call(
            reqwest::Method::POST,
            "/window",
            Some(json!({ "handle": handle })),
        )
        .await;
    }

    /// Ends the session (closes the window).
    pub async fn quit(self) {
        let _ = self.client.delete(&self.base).send().await;
    }
}

/// Standard base64 (the screenshot encoding), without a crate.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = text.bytes().filter(|c| *c != b'=' && *c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c) << (18 - 6 * i);
        }
        let take = chunk.len() - 1;
        for i in 0..take {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
