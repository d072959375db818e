//! Bench peer for the pages cells: actix-web 4 serving what zzz's `examples/site.rs` and
//! `examples/api.rs` serve on the routes the bench measures, with the same bodies
//! (`pages-common`: zzz's template files and content, serde_json for the notes).
//!
//! `peer-actix-pages [ADDR] [--threads N]` (defaults 127.0.0.1:8080, 1 worker).
//!
//! | route | answers |
//! |---|---|
//! | `GET /` | 200 the site's home page, `text/html; charset=utf-8` |
//! | `GET /notes?limit&offset` | 200 a page of notes; 400 a bad parameter |
//! | `POST /notes` | 201 the note with `Location`; 400/415/422 a bad body; 409 the store is full; 413 over 16 KiB |
//! | `GET /notes/{id}` | 200 the note; 404; 400 an id that is not a `u32` |
//! | `DELETE /notes/{id}` | 204; 404; 400 |
//!
//! Set up as the plaintext peer (`peers/actix`): `workers(N)`, no logger, default features
//! off. The store is one `Mutex<Notes>` in `web::Data`, as an actix app shares state; with the
//! bench's one worker the lock is never contended.

use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, LOCATION, SERVER};
use actix_web::web::{self, Bytes, PayloadConfig};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use pages_common::{HTML, JSON, Notes, PROBLEM_JSON, Problem};

/// The largest body read (zzz's notes API: `limits.max_body`, 16 KiB); larger is 413.
const MAX_BODY: usize = 16 * 1024;

type Store = web::Data<Mutex<Notes>>;

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((SERVER, HeaderValue::from_static("actix")))
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .body(body.into())
}

fn problem(p: Problem) -> HttpResponse {
    let status = StatusCode::from_u16(p.status).expect("a problem's status is valid");
    answer(status, PROBLEM_JSON, p.body())
}

/// zzz answers an id that is not a `u32` with this problem, before the handler runs.
fn bad_id() -> HttpResponse {
    answer(
        StatusCode::BAD_REQUEST,
        PROBLEM_JSON,
        pages_common::BAD_ID_BODY,
    )
}

async fn home() -> HttpResponse {
    answer(StatusCode::OK, HTML, pages_common::home_page())
}

async fn list_notes(store: Store, req: HttpRequest) -> HttpResponse {
    match store.lock().expect("one worker").list(req.uri().query()) {
        Ok(json) => answer(StatusCode::OK, JSON, json),
        Err(p) => problem(p),
    }
}

async fn create_note(store: Store, req: HttpRequest, body: Bytes) -> HttpResponse {
    let content_type = req.headers().get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    let created = store
        .lock()
        .expect("one worker")
        .create(content_type, &body);
    match created {
        Ok(created) => HttpResponse::Created()
            .insert_header((SERVER, HeaderValue::from_static("actix")))
            .insert_header((LOCATION, format!("/notes/{}", created.id)))
            .insert_header((CONTENT_TYPE, HeaderValue::from_static(JSON)))
            .body(created.json),
        Err(p) => problem(p),
    }
}

async fn get_note(store: Store, id: web::Path<String>) -> HttpResponse {
    let Ok(id) = id.parse::<u32>() else {
        return bad_id();
    };
    match store.lock().expect("one worker").get(id) {
        Ok(json) => answer(StatusCode::OK, JSON, json),
        Err(p) => problem(p),
    }
}

async fn delete_note(store: Store, id: web::Path<String>) -> HttpResponse {
    let Ok(id) = id.parse::<u32>() else {
        return bad_id();
    };
    match store.lock().expect("one worker").delete(id) {
        Ok(()) => HttpResponse::NoContent()
            .insert_header((SERVER, HeaderValue::from_static("actix")))
            .finish(),
        Err(p) => problem(p),
    }
}

fn main() -> std::io::Result<()> {
    let (addr, threads) = pages_common::parse_args();
    eprintln!("peer-actix-pages: listening on {addr} with {threads} worker(s)");
    let store: Store = web::Data::new(Mutex::new(Notes::default()));
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(store.clone())
                .app_data(PayloadConfig::new(MAX_BODY))
                .route("/", web::get().to(home))
                .service(
                    web::resource("/notes")
                        .route(web::get().to(list_notes))
                        .route(web::post().to(create_note)),
                )
                .service(
                    web::resource("/notes/{id}")
                        .route(web::get().to(get_note))
                        .route(web::delete().to(delete_note)),
                )
        })
        .workers(threads)
        .backlog(4096)
        // The bench stops servers with SIGTERM: exit at once rather than drain for 30 s.
        .shutdown_timeout(0)
        .bind(addr)?
        .run(),
    )
}
