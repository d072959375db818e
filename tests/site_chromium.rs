//! End to end: the example site (`zzz::site`) served by zzz on 127.0.0.1 (a free port), loaded
//! in headless Chromium, with assertions on the DOM Chromium builds from each page and on the
//! pixels of a screenshot (the stylesheet, served gzip-encoded, is applied).
//!
//! Chromium is Debian's (`/usr/bin/chromium`); when it is missing the test installs it with
//! apt-get (`ci/setup.sh` does the same). Each run gets a fresh profile directory and a time
//! limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod support;

use support::chromium;
use zzz::core::{Config, Sole};
use zzz::site::{POSTS, SITE};
use zzz::uring::{BoundAddr, Builder, Running};

/// Longest a Chromium run may take before the test fails.
const CHROMIUM_LIMIT: Duration = Duration::from_secs(90);

/// The site on a free port of 127.0.0.1, started once for all tests of this file.
fn site() -> SocketAddr {
    static SITE_ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *SITE_ADDR.get_or_init(|| {
        let mut config = Config::DEFAULT;
        config.max_connections = 64;
        config.large_buffers = 4;
        let running: Running = Builder::new(config)
            .quiet()
            .fallback_to_portable(true)
            .listen_tcp("127.0.0.1:0".parse().unwrap(), Sole)
            .start(|_| zzz::site::app())
            .expect("the site starts");
        let addr = match running.addrs()[0] {
            BoundAddr::Tcp(addr) => addr,
            ref other => panic!("a TCP address, not {other:?}"),
        };
        // The server runs until the test process exits.
        std::mem::forget(running);
        addr
    })
}

/// A fresh, empty profile directory for one Chromium run.
fn profile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "zzz-site-chromium-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `url` with `extra` flags and returns its standard output.
fn run_chromium(extra: &[&str], url: &str) -> String {
    let profile = profile_dir();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + CHROMIUM_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took more than {CHROMIUM_LIMIT:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "chromium failed on {url}: {status}");
    out
}

/// The DOM Chromium builds for `path`, serialized.
fn dom(path: &str) -> String {
    let url = format!("http://{}{path}", site());
    let dom = run_chromium(&["--dump-dom"], &url);
    assert!(dom.contains("</html>"), "no document for {path}: {dom}");
    dom
}

/// Status line and headers of a GET sent over a plain socket.
fn raw_get(path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(site()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    String::from_utf8(response[..end].to_vec()).unwrap()
}

#[test]
fn home_page_lists_the_latest_posts() {
    let dom = dom("/");
    assert!(dom.contains("<title>Home · Sam Rivera</title>"), "{dom}");
    assert!(dom.contains("Hi, I'm Sam Rivera."));
    assert_eq!(dom.matches("<article class=\"card\">").count(), 3);
    for post in &POSTS[..3] {
        assert!(
            dom.contains(&format!("href=\"/blog/{}\"", post.slug)),
            "{dom}"
        );
    }
    assert!(dom.contains(&format!("All {} posts", POSTS.len())));
    // The navigation marks the current page.
    assert!(dom.contains("<a href=\"/\" class=\"current\" aria-current=\"page\">Home</a>"));
    assert!(dom.contains(&format!("© {} {}", SITE.year, SITE.author)));
}

#[test]
fn blog_index_loops_over_every_post() {
    let dom = dom("/blog");
    assert!(dom.contains("<title>Blog · Sam Rivera</title>"), "{dom}");
    assert!(dom.contains(&format!("{} posts, newest first.", POSTS.len())));
    assert_eq!(dom.matches("<li id=\"post-").count(), POSTS.len());
    for (i, post) in POSTS.iter().enumerate() {
        assert!(dom.contains(&format!("<li id=\"post-{}\">", i + 1)));
        // Titles are escaped by the template and unescaped by the browser: `&` shows as `&amp;`
        // in the serialized DOM, as Chromium serializes text.
        let title = post.title.replace('&', "&amp;");
        assert!(dom.contains(&title), "{title} missing from {dom}");
    }
}

#[test]
fn post_page_shows_the_post_selected_by_its_slug() {
    let dom = dom("/blog/templates-at-compile-time");
    assert!(
        dom.contains("<title>Templates at compile time · Sam Rivera</title>"),
        "{dom}"
    );
    assert!(dom.contains("<h1>Templates at compile time</h1>"));
    assert!(dom.contains("<h2>Straight into the buffer</h2>"));
    assert!(dom.contains("<pre><code>fn post(ctx: &amp;mut Ctx&lt;Site&gt;"));
    // Text that looks like markup stays text: no <b> element was created.
    assert!(dom.contains("a title like &lt;b&gt;bold&lt;/b&gt; shows"));
    assert!(!dom.contains("<b>bold</b>"));
    assert!(dom.contains("href=\"/blog/no-heap-after-startup\""));
    assert!(dom.contains("<a href=\"/blog\" class=\"current\" aria-current=\"page\">Blog</a>"));
}

#[test]
fn about_page() {
    let dom = dom("/about");
    assert!(dom.contains("<title>About · Sam Rivera</title>"), "{dom}");
    assert!(dom.contains("<h2>Now</h2>"));
    assert!(dom.contains("Walking the coast path on weekends."));
}

/// RFC 9110 §15.5.5: unknown posts and paths get the 404 page, rendered from its template.
#[test]
fn unknown_paths_get_the_404_page() {
    for path in [
        "/blog/no-such-post",
        "/nowhere/at/all",
        "/static/missing.css",
    ] {
        let head = raw_get(path, "");
        assert!(
            head.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{path}: {head}"
        );
        assert!(head.contains("\r\nContent-Type: text/html; charset=utf-8"));
        let dom = dom(path);
        assert!(
            dom.contains("<title>Not found · Sam Rivera</title>"),
            "{dom}"
        );
        assert!(dom.contains("<h1>404 · Not found</h1>"));
        assert!(dom.contains(&format!("<code>{path}</code>")), "{dom}");
    }
}

/// The stylesheet is served gzip-encoded to a browser (RFC 9110 §12.5.3), and Chromium
/// applies it: the masthead of a screenshot has the stylesheet's colour, the page its paper.
#[test]
fn stylesheet_is_served_gzipped_and_applied() {
    let head = raw_get(
        "/static/style.css",
        "Accept-Encoding: gzip, deflate, br, zstd\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Encoding: gzip\r\n"), "{head}");
    assert!(head.contains("\r\nContent-Type: text/css; charset=utf-8\r\n"));
    assert!(head.contains("\r\nETag: \""));

    let shot = profile_dir().join("site.png");
    let url = format!("http://{}/", site());
    run_chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,900",
            "--hide-scrollbars",
        ],
        &url,
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("chromium wrote the screenshot"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    let at = |x: u32, y: u32| {
        let i = (y as usize * frame.width as usize + x as usize) * channels;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    let near = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 6);
    // `--band: #243b53` across the top; `--paper: #fbfaf7` below it.
    assert!(
        near(at(4, 4), [0x24, 0x3b, 0x53]),
        "masthead {:?}",
        at(4, 4)
    );
    assert!(
        near(at(4, frame.height - 4), [0xfb, 0xfa, 0xf7]),
        "page {:?}",
        at(4, frame.height - 4)
    );
    let _ = std::fs::remove_dir_all(shot.parent().unwrap());
}
