//! Rendering time of compiled templates: the whole `Reply::template` path of zzz (status line,
//! headers, the page rendered into the connection's send buffer, `Content-Length` filled in)
//! against askama's own `render_into` of the same template into a `String` whose capacity is
//! kept between iterations and into a fixed buffer, in the same run. The templates are those
//! of the template benchmarks (a 100×100 "big table" and "teams"), written here for askama.
//!
//! Run with `cargo bench -p zzz-core --features templates --bench templates`. For each
//! template it prints the median time per render of:
//!
//! - `zzz`: `Out::template` with the server's default buffers (16 KiB send buffer, 1 MiB large
//!   buffer to move to): the status line, `Server`, `Date`, `Content-Type`, the page,
//!   `Content-Length` filled in, all in the connection's buffer;
//! - `askama String` and `askama fixed`: askama's `render_into` of the same page into a `String`
//!   whose capacity is kept between renders, and into a fixed buffer;
//! - `head`: what `zzz` costs for an empty page (the response head and its bookkeeping).
//!
//! and two ratios: `full` = zzz / askama String, and `integration` = (zzz − head) / askama
//! String, the cost of rendering through zzz's writer rather than into a `String` (the target
//! is at most 1.05). `--profile zzz|askama big|teams` runs one contender alone, for callgrind.

#[allow(dead_code)] // `report` prints one ratio; this bench prints two of its own.
mod harness;

use std::fmt::Write as _;
use std::time::Duration;

use askama::Template;
use harness::{Contender, compare, keep};
use zzz_core::http::HttpDate;
use zzz_core::{Out, Status};

#[derive(Template)]
#[template(
    ext = "html",
    source = "<table>\n{% for row in table %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>\n{% endfor %}</table>\n"
)]
struct BigTable<'a> {
    table: &'a [Vec<usize>],
}

/// An empty page: what remains is the response head.
#[derive(Template)]
#[template(ext = "html", source = "")]
struct Empty;

struct Team {
    name: &'static str,
    score: u8,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<html>
  <head>
    <title>{{ year }}</title>
  </head>
  <body>
    <h1>CSL {{ year }}</h1>
    <ul>
    {%- for team in teams %}
      <li class="{% if loop.first %}champion{% endif %}">
        <b>{{ team.name }}</b>: {{ team.score }}
      </li>
    {%- endfor %}
    </ul>
  </body>
</html>
"#
)]
struct Teams<'a> {
    year: u16,
    teams: &'a [Team],
}

/// A fixed buffer as a bare `fmt::Write`: the least a renderer into preallocated memory does.
struct FixedBuffer {
    bytes: Vec<u8>,
    len: usize,
}

impl std::fmt::Write for FixedBuffer {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The server's default buffers: a 16 KiB send buffer and a 1 MiB large buffer it may move to.
const SEND_BUFFER: usize = 16 * 1024;
const LARGE_BUFFER: usize = 1024 * 1024;

/// The buffers each contender renders into, allocated once.
struct Buffers {
    send: Vec<u8>,
    large: Vec<u8>,
    string: String,
    fixed: FixedBuffer,
    date: HttpDate,
}

impl Buffers {
    fn new() -> Buffers {
        Buffers {
            send: vec![0u8; SEND_BUFFER],
            large: vec![0u8; LARGE_BUFFER],
            string: String::with_capacity(LARGE_BUFFER),
            fixed: FixedBuffer {
                bytes: vec![0u8; LARGE_BUFFER],
                len: 0,
            },
            date: HttpDate::new(),
        }
    }

    /// The whole `Reply::template` path; returns the response's length.
    fn zzz<T: Template>(&mut self, page: &T) -> usize {
        let mut out: Out<'_, ()> =
            Out::detached(&mut self.send, Some(&mut self.large), &self.date, false);
        let _ = out.template(Status::OK, keep(page));
        keep(out.written().map(|w| w.len()).unwrap_or(0))
    }

    fn askama_string<T: Template>(&mut self, page: &T) -> usize {
        self.string.clear();
        let _ = keep(page).render_into(&mut self.string);
        keep(self.string.len())
    }

    fn askama_fixed<T: Template>(&mut self, page: &T) -> usize {
        self.fixed.len = 0;
        let _ = keep(page).render_into(&mut self.fixed);
        keep(self.fixed.len)
    }
}

fn compare_on<T: Template>(case: &str, page: &T, budget: Duration) {
    let mut buffers = Buffers::new();
    let size = buffers.askama_string(page);
    // The zzz response must carry the very page askama renders.
    let response_len = buffers.zzz(page);
    {
        let mut out: Out<'_, ()> = Out::detached(
            &mut buffers.send,
            Some(&mut buffers.large),
            &buffers.date,
            false,
        );
        let _ = out.template(Status::OK, page);
        let response = out.written().expect("the page fits");
        assert!(response.ends_with(buffers.string.as_bytes()));
        let mut length = String::new();
        let _ = write!(length, "\r\nContent-Length: {size}\r\n\r\n");
        assert!(
            response
                .windows(length.len())
                .any(|w| w == length.as_bytes())
        );
    }
    let cell = std::cell::RefCell::new(buffers);
    let mut contenders = [
        Contender {
            run: Box::new(|| {
                cell.borrow_mut().zzz(page);
            }),
        },
        Contender {
            run: Box::new(|| {
                cell.borrow_mut().askama_string(page);
            }),
        },
        Contender {
            run: Box::new(|| {
                cell.borrow_mut().askama_fixed(page);
            }),
        },
        Contender {
            run: Box::new(|| {
                cell.borrow_mut().zzz(&Empty);
            }),
        },
    ];
    let m = compare(&mut contenders, budget);
    println!(
        "{case:<18} page {size:>6} B, response {response_len:>6} B: zzz {:>9.1} ns  askama String {:>9.1} ns  \
         askama fixed {:>9.1} ns  head {:>6.1} ns  full {:.3}  integration {:.3}",
        m[0],
        m[1],
        m[2],
        m[3],
        m[0] / m[1],
        (m[0] - m[3]) / m[1],
    );
}

fn main() {
    let table: Vec<Vec<usize>> = (0..100).map(|_| (0..100).collect()).collect();
    let teams = [
        Team {
            name: "Jiangsu",
            score: 43,
        },
        Team {
            name: "Beijing",
            score: 27,
        },
        Team {
            name: "Guangzhou",
            score: 22,
        },
        Team {
            name: "Shandong",
            score: 12,
        },
    ];
    let big = BigTable { table: &table };
    let small = Teams {
        year: 2015,
        teams: &teams,
    };

    // `--profile zzz|askama big|teams`: one contender alone, for callgrind or perf.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let zzz = args.get(i + 1).is_some_and(|a| a == "zzz");
        let on_big = args.get(i + 2).is_none_or(|a| a == "big");
        let mut buffers = Buffers::new();
        for _ in 0..if on_big { 200 } else { 20_000 } {
            match (zzz, on_big) {
                (true, true) => buffers.zzz(&big),
                (true, false) => buffers.zzz(&small),
                (false, true) => buffers.askama_string(&big),
                (false, false) => buffers.askama_string(&small),
            };
        }
        return;
    }

    let budget = Duration::from_millis(
        std::env::var("ZZZ_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    println!("median time per render (budget {budget:?} per case)");
    compare_on("big table 100x100", &big, budget);
    compare_on("teams", &small, budget);
}
