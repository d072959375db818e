//! Parse time of a request head: zzz's strict, resumable parser against httparse, on the
//! classic 703-byte browser request of the picohttpparser/httparse benchmarks and on a minimal
//! `GET /plaintext`. Run with `cargo bench -p zzz-core --bench parse`; prints figures and the
//! ratio zzz/httparse (below 1.0 means zzz is faster).

mod harness;

use std::time::Duration;

use harness::{Contender, compare, keep, report};
use zzz_core::http::{HeadParser, HeaderSpan, Limits, Parsed};

const BROWSER_REQUEST: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n\r\n";

const PLAINTEXT_REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

fn zzz(input: &[u8]) -> usize {
    let mut fields = [HeaderSpan::default(); 32];
    let mut parser = HeadParser::new();
    match parser.parse(keep(input), &mut fields, &Limits::DEFAULT) {
        Ok(Parsed::Complete(head)) => keep(head.len as usize + fields[0].value.len as usize),
        other => panic!("{other:?}"),
    }
}

fn httparse(input: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(keep(input)) {
        Ok(httparse::Status::Complete(n)) => keep(n + req.headers[0].value.len()),
        other => panic!("{other:?}"),
    }
}

fn main() {
    // `--profile NAME`: only run one parser, for callgrind or perf.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let parse = if args[i + 1] == "zzz" { zzz } else { httparse };
        let input = if args.get(i + 2).is_some_and(|a| a == "plaintext") {
            PLAINTEXT_REQUEST
        } else {
            BROWSER_REQUEST
        };
        for _ in 0..200_000 {
            keep(parse(input));
        }
        return;
    }
    let budget = Duration::from_millis(
        std::env::var("ZZZ_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    println!("request-head parse time, median of interleaved batches (lower is better)");
    for (case, input) in [
        ("browser request (703 B)", BROWSER_REQUEST),
        ("GET /plaintext (44 B)", PLAINTEXT_REQUEST),
    ] {
        assert_eq!(
            zzz(input),
            httparse(input),
            "both parsers must see the same head"
        );
        let mut contenders = [
            Contender {
                run: Box::new(|| {
                    keep(zzz(input));
                }),
            },
            Contender {
                run: Box::new(|| {
                    keep(httparse(input));
                }),
            },
        ];
        let medians = compare(&mut contenders, budget);
        report(case, &["zzz", "httparse"], &medians);
    }
}
