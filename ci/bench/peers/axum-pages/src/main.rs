//! Bench peer for the pages cells: axum 0.8 serving what zzz's `examples/site.rs` and
//! `examples/api.rs` serve on the routes the bench measures, with the same bodies
//! (`pages-common`: zzz's template files and content, serde_json for the notes).
//!
//! `peer-axum-pages [ADDR] [--threads N]` (defaults 127.0.0.1:8080, 1 thread).
//!
//! | route | answers |
//! |---|---|
//! | `GET /` | 200 the site's home page, `text/html; charset=utf-8` |
//! | `GET /notes?limit&offset` | 200 a page of notes; 400 a bad parameter |
//! | `POST /notes` | 201 the note with `Location`; 400/415/422 a bad body; 409 the store is full; 413 over 16 KiB |
//! | `GET /notes/{id}` | 200 the note; 404; 400 an id that is not a `u32` |
//! | `DELETE /notes/{id}` | 204; 404; 400 |
//!
//! Runtime: as the plaintext peer `peers/hyper`, one tokio current-thread runtime per thread,
//! each on its own `SO_REUSEPORT` listener, here served by `axum::serve` (HTTP/1 only,
//! `TCP_NODELAY` set on each connection). The store is one `Arc<Mutex<Notes>>` in the router's
//! state, as an axum app shares state; with one thread the lock is never contended.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SERVER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use pages_common::{HTML, JSON, Notes, PROBLEM_JSON, Problem};
use tokio::net::TcpSocket;

/// The largest body read (zzz's notes API: `limits.max_body`, 16 KiB); larger is 413.
const MAX_BODY: usize = 16 * 1024;

type Store = Arc<Mutex<Notes>>;

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    (
        status,
        [
            (SERVER, HeaderValue::from_static("axum")),
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        ],
        body.into(),
    )
        .into_response()
}

fn problem(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).expect("a problem's status is valid");
    answer(status, PROBLEM_JSON, p.body())
}

/// zzz answers an id that is not a `u32` with this problem, before the handler runs.
fn bad_id() -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        PROBLEM_JSON,
        pages_common::BAD_ID_BODY,
    )
}

async fn home() -> Response {
    answer(StatusCode::OK, HTML, pages_common::home_page())
}

async fn list_notes(State(store): State<Store>, RawQuery(query): RawQuery) -> Response {
    match store.lock().expect("one thread").list(query.as_deref()) {
        Ok(json) => answer(StatusCode::OK, JSON, json),
        Err(p) => problem(p),
    }
}

async fn create_note(State(store): State<Store>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    let created = store
        .lock()
        .expect("one thread")
        .create(content_type, &body);
    match created {
        Ok(created) => {
            let location = HeaderValue::try_from(format!("/notes/{}", created.id))
                .expect("a path is a header value");
            (
                StatusCode::CREATED,
                [
                    (SERVER, HeaderValue::from_static("axum")),
                    (LOCATION, location),
                    (CONTENT_TYPE, HeaderValue::from_static(JSON)),
                ],
                created.json,
            )
                .into_response()
        }
        Err(p) => problem(p),
    }
}

async fn get_note(State(store): State<Store>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u32>() else {
        return bad_id();
    };
    match store.lock().expect("one thread").get(id) {
        Ok(json) => answer(StatusCode::OK, JSON, json),
        Err(p) => problem(p),
    }
}

async fn delete_note(State(store): State<Store>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u32>() else {
        return bad_id();
    };
    match store.lock().expect("one thread").delete(id) {
        Ok(()) => (
            StatusCode::NO_CONTENT,
            [(SERVER, HeaderValue::from_static("axum"))],
        )
            .into_response(),
        Err(p) => problem(p),
    }
}

fn app(store: Store) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/notes", get(list_notes).post(create_note))
        .route("/notes/{id}", get(get_note).delete(delete_note))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(store)
}

fn parse_args() -> (SocketAddr, usize) {
    let (addr, threads) = pages_common::parse_args();
    (addr.parse().expect("ADDR must be ip:port"), threads)
}

fn main() {
    let (addr, threads) = parse_args();
    eprintln!("peer-axum-pages: listening on {addr} with {threads} thread(s)");
    let store: Store = Arc::new(Mutex::new(Notes::default()));
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let router = app(store.clone());
            std::thread::Builder::new()
                .name(format!("axum-{i}"))
                .spawn(move || serve_on_this_thread(addr, router))
                .expect("spawn worker thread")
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread panicked");
    }
}

fn serve_on_this_thread(addr: SocketAddr, router: Router) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("build tokio runtime");
    rt.block_on(async move {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.set_reuseport(true).expect("SO_REUSEPORT");
        socket.bind(addr).expect("bind");
        let listener = socket.listen(4096).expect("listen").tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, router).await.expect("serve");
    });
}
