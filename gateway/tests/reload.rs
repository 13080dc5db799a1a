//! Hot reload: under load without failures, bad files ignored, the
//! Kubernetes ConfigMap symlink swap, SIGHUP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::*;

/// Write atomically (temp file + rename), as editors and `kubectl cp` do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Which upstream answers `/users/who`, polling until `want` or 5 s.
async fn wait_for_upstream(gw: &TestGateway, want: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(resp) = client().get(gw.url("/users/who")).send().await
            && resp.headers().get("x-upstream").is_some_and(|v| v == want)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn editing_the_file_applies_the_new_table_without_failing_requests() {
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    let mut gw = TestGateway::start_with(&one_route(&a.url(), ""), |o| o.watch = true).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (stop, ok, failed, url) = (
            stop.clone(),
            ok.clone(),
            failed.clone(),
            gw.url("/users/who"),
        );
        workers.push(tokio::spawn(async move {
            let c = client();
            // Bounded in count as well as by the stop flag.
            for _ in 0..5000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match c.get(&url).send().await {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for (i, target) in [&b, &a, &b].iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(150)).await;
        if i % 2 == 0 {
            replace(&gw.config_path, &one_route(&target.url(), ""));
        } else {
            std::fs::write(&gw.config_path, one_route(&target.url(), "")).unwrap();
        }
        assert!(
            wait_for_upstream(&gw, &target.name).await,
            "reload {i} to {}",
            target.name
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(ok.load(Ordering::Relaxed) > 0);
    assert!(
        gw.metrics()
            .await
            .contains("gateway_config_reloads_total{result=\"success\"}")
    );
    gw.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_invalid_file_is_rejected_and_the_old_table_keeps_serving() {
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    let gw = TestGateway::start_with(&one_route(&a.url(), ""), |o| o.watch = true).await;
    let before = reload_failures(&gw.metrics().await);
    // Unknown upstream: refused.
    replace(
        &gw.config_path,
        &format!(
            "{}\n[[routes]]\nprefix = \"/x/\"\nupstream = \"nope\"\n",
            one_route(&b.url(), "")
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while reload_failures(&gw.metrics().await) == before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reload_failures(&gw.metrics().await) > before);
    let resp = client().get(gw.url("/users/who")).send().await.unwrap();
    assert_eq!(resp.headers()["x-upstream"], "a");
    // A valid file afterwards is applied.
    replace(&gw.config_path, &one_route(&b.url(), ""));
    assert!(wait_for_upstream(&gw, "b").await);
}

#[tokio::test]
async fn an_upstream_added_by_a_reload_gets_its_error_series_at_zero() {
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    let gw = TestGateway::start_with(&one_route(&a.url(), ""), |o| o.watch = true).await;
    let series = "gateway_upstream_errors_total{upstream=\"added-by-reload\",kind=\"connect\"} 0\n";
    assert!(!gw.metrics().await.contains(series));
    replace(
        &gw.config_path,
        &format!(
            "{}\n[upstreams.added-by-reload]\nendpoints = [\"{}\"]\n[[routes]]\nprefix = \"/added/\"\nupstream = \"added-by-reload\"\n",
            one_route(&a.url(), ""),
            b.url()
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gw.metrics().await.contains(series) {
        assert!(Instant::now() < deadline, "no {series} after the reload");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = gw.metrics().await;
    for kind in [
        "connect_timeout",
        "response_timeout",
        "protocol",
        "no_endpoint",
    ] {
        let series = format!(
            "gateway_upstream_errors_total{{upstream=\"added-by-reload\",kind=\"{kind}\"}} 0\n"
        );
        assert!(text.contains(&series), "missing {series} in\n{text}");
    }
}

#[tokio::test]
async fn a_reload_keeps_the_upstream_error_counts() {
    let dead = closed_port().await;
    let a = Upstream::start("a").await;
    let table = |extra: &str| {
        format!(
            "[upstreams.kept-count]\nendpoints = [\"http://{dead}\"]\n[[routes]]\nprefix = \"/dead/\"\nupstream = \"kept-count\"\n{}{extra}",
            one_route(&a.url(), "")
        )
    };
    let gw = TestGateway::start_with(&table(""), |o| o.watch = true).await;
    let resp = client().get(gw.url("/dead/x")).send().await.unwrap();
    assert_eq!(resp.status(), 502);
    let counted = "gateway_upstream_errors_total{upstream=\"kept-count\",kind=\"connect\"} ";
    let count = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(counted))
            .map(str::to_string)
    };
    let before = count(&gw.metrics().await).expect("counted");
    assert_ne!(before, "0");
    replace(
        &gw.config_path,
        &table("[[routes]]\nprefix = \"/again/\"\nupstream = \"users\"\n"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while client()
        .get(gw.url("/again/x"))
        .send()
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(Instant::now() < deadline, "the new table was not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&gw.metrics().await), Some(before));
}

fn reload_failures(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("gateway_config_reloads_total{result=\"failure\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(unix)]
#[tokio::test]
async fn a_configmap_style_symlink_swap_is_picked_up() {
    use std::os::unix::fs::symlink;
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    // dir/gateway.toml -> ..data/gateway.toml, ..data -> ..v1 (how kubelet mounts ConfigMaps).
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("..v1");
    std::fs::create_dir(&v1).unwrap();
    std::fs::write(v1.join("gateway.toml"), one_route(&a.url(), "")).unwrap();
    symlink("..v1", dir.path().join("..data")).unwrap();
    symlink("..data/gateway.toml", dir.path().join("gateway.toml")).unwrap();
    let mut opts = gateway::LaunchOptions::new(dir.path().join("gateway.toml"));
    opts.listen = Some("127.0.0.1:0".parse().unwrap());
    opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    let gw = gateway::Gateway::bind(opts).await.unwrap();
    let addr = gw.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(gw.run(async move {
        let _ = rx.await;
    }));
    let who = || async move {
        client()
            .get(format!("http://{addr}/users/who"))
            .send()
            .await
            .unwrap()
            .headers()["x-upstream"]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(who().await, "a");
    let v2 = dir.path().join("..v2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(v2.join("gateway.toml"), one_route(&b.url(), "")).unwrap();
    symlink("..v2", dir.path().join("..data_tmp")).unwrap();
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
    std::fs::remove_dir_all(&v1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while who().await != "b" {
        assert!(Instant::now() < deadline, "symlink swap not picked up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = tx.send(());
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_file() {
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    // Not watching: only the signal can trigger the reload.
    let gw = TestGateway::start(&one_route(&a.url(), "")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::write(&gw.config_path, one_route(&b.url(), "")).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(wait_for_upstream(&gw, "b").await);
}
