//! What the `actix-pages` and `axum-pages` bench peers share, so that both answer as zzz's site
//! (`src/site/`) and notes API (`src/notes_api.rs`) do, byte for byte where it can be:
//!
//! - the home page: zzz's own template files (`examples/site/templates/`, read through this
//!   crate's `askama.toml`) and zzz's own content (`src/site/content.rs`, included by path),
//!   rendered by askama into a `String` per request, as an actix-web or axum app does;
//! - the notes store: a `Vec` of at most [`CAPACITY`] notes with ids from 1 up, `409 Store
//!   full` beyond, as zzz's fixed-capacity store; the same JSON through serde_json, the same
//!   statuses, and problem details (RFC 9457) with zzz's titles for every error.
//!
//! The frameworks do the rest: routing, reading the body, writing the response.

use askama::Template;
use serde::{Deserialize, Serialize};

/// zzz's site content, shared with the zzz repository rather than copied.
#[allow(dead_code)]
#[path = "../../../../../src/site/content.rs"]
mod content;

pub use content::{POSTS, Post, SITE, Section, Site};

/// The command line both pages peers take, as every peer does: `[ADDR] [--threads N]`
/// (defaults 127.0.0.1:8080 and 1). Panics on a `--threads` that is not a positive integer.
pub fn parse_args() -> (String, usize) {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--threads needs a positive integer")
            }
            _ => addr = a,
        }
    }
    (addr, threads)
}

/// The home page's media type, as zzz's `Ctx::template` sends it.
pub const HTML: &str = "text/html; charset=utf-8";
/// A note's media type.
pub const JSON: &str = "application/json";
/// A problem's media type (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `/`: zzz's `HomePage`, field for field.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    /// The site.
    pub site: &'a Site,
    /// The navigation entry to mark.
    pub current: Section,
    /// The newest posts.
    pub latest: &'a [Post],
    /// How many posts there are.
    pub total: usize,
}

/// How many posts the home page lists (zzz's `site::LATEST`).
pub const LATEST: usize = 3;

/// Renders the home page, as zzz's `home` handler fills it.
pub fn home_page() -> String {
    HomePage {
        site: &SITE,
        current: Section::Home,
        latest: &POSTS[..LATEST.min(POSTS.len())],
        total: POSTS.len(),
    }
    .render()
    .expect("the home page renders")
}

/// The most notes the store holds (zzz's `notes_api::CAPACITY`).
pub const CAPACITY: usize = 64;
/// The longest title, in characters.
pub const TITLE_MAX: usize = 80;
/// The longest text, in characters.
pub const TEXT_MAX: usize = 500;
/// The most notes on one page.
pub const PAGE_MAX: u32 = 25;
/// Notes on a page when `limit` is not given.
pub const PAGE_DEFAULT: u32 = 10;

/// A note, serialized as zzz's: `{"id":1,"title":"…","text":"…","done":false}`.
#[derive(Serialize, Clone, Debug)]
pub struct Note {
    /// Its identifier, given by the server.
    pub id: u32,
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
    /// Whether it is done.
    pub done: bool,
}

/// A note as a client writes it: `title` required, `text` and `done` defaulted, nothing else.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// Its title.
    pub title: String,
    /// Its text; empty when left out.
    #[serde(default)]
    pub text: String,
    /// Whether it is done; `false` when left out.
    #[serde(default)]
    pub done: bool,
}

/// One page of notes, as zzz's `NotePage`.
#[derive(Serialize, Debug)]
pub struct NotePage<'a> {
    /// The notes of this page.
    pub items: &'a [Note],
    /// How many notes the store holds.
    pub total: u32,
    /// How many notes precede this page.
    pub offset: u32,
    /// The most notes this page could hold.
    pub limit: u32,
}

/// An error answer: problem details (RFC 9457), written as zzz writes them
/// (`{"type":"about:blank","title":…,"status":…,"detail":…}`).
#[derive(Serialize, Debug)]
pub struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// zzz's title for this problem.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong (zzz's wording where it was easy to follow, not always).
    pub detail: String,
}

impl Problem {
    fn new(status: u16, title: &'static str, detail: String) -> Problem {
        Problem {
            kind: "about:blank",
            title,
            status,
            detail,
        }
    }

    /// The body, `application/problem+json`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a problem serializes")
    }

    fn not_found(id: u32) -> Problem {
        Problem::new(404, "Not Found", format!("there is no note {id}"))
    }
}

/// A created note: its id (for `Location: /notes/{id}`) and its JSON.
#[derive(Debug)]
pub struct Created {
    /// The new note's id.
    pub id: u32,
    /// The note as JSON.
    pub json: Vec<u8>,
}

/// The notes, in order of creation (so of id), at most [`CAPACITY`].
#[derive(Debug)]
pub struct Notes {
    notes: Vec<Note>,
    next_id: u32,
}

impl Default for Notes {
    fn default() -> Self {
        Notes {
            notes: Vec::with_capacity(CAPACITY),
            next_id: 1,
        }
    }
}

impl Notes {
    fn index(&self, id: u32) -> Option<usize> {
        self.notes.binary_search_by_key(&id, |n| n.id).ok()
    }

    /// `POST /notes`: `content_type` is the request's `Content-Type`, `body` its body.
    /// 201 with the note; 415, 400, 422 for a bad body; 409 when the store is full.
    pub fn create(&mut self, content_type: Option<&[u8]>, body: &[u8]) -> Result<Created, Problem> {
        let input = read_input(content_type, body)?;
        if self.notes.len() >= CAPACITY || self.next_id == u32::MAX {
            return Err(Problem::new(
                409,
                "Store full",
                format!("the store holds {CAPACITY} notes; delete one first"),
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        let note = Note {
            id,
            title: input.title,
            text: input.text,
            done: input.done,
        };
        let json = serde_json::to_vec(&note).expect("a note serializes");
        self.notes.push(note);
        Ok(Created { id, json })
    }

    /// `GET /notes/{id}`: 200 with the note, or 404.
    pub fn get(&self, id: u32) -> Result<Vec<u8>, Problem> {
        match self.index(id) {
            Some(i) => Ok(serde_json::to_vec(&self.notes[i]).expect("a note serializes")),
            None => Err(Problem::not_found(id)),
        }
    }

    /// `DELETE /notes/{id}`: 204, or 404.
    pub fn delete(&mut self, id: u32) -> Result<(), Problem> {
        match self.index(id) {
            Some(i) => {
                self.notes.remove(i);
                Ok(())
            }
            None => Err(Problem::not_found(id)),
        }
    }

    /// `GET /notes?limit&offset`: 200 with a page, or 400 for a bad parameter. `query` is the
    /// target's query, without the `?`.
    pub fn list(&self, query: Option<&str>) -> Result<Vec<u8>, Problem> {
        let Ok(limit) = query_int(query, "limit", PAGE_DEFAULT, 1, PAGE_MAX) else {
            return Err(Problem::new(
                400,
                "Invalid query parameter",
                format!("`limit` must be an integer from 1 to {PAGE_MAX}"),
            ));
        };
        let Ok(offset) = query_int(query, "offset", 0, 0, u32::MAX) else {
            return Err(Problem::new(
                400,
                "Invalid query parameter",
                format!("`offset` must be an integer from 0 to {}", u32::MAX),
            ));
        };
        let start = (offset as usize).min(self.notes.len());
        let end = (start + limit as usize).min(self.notes.len());
        let page = NotePage {
            items: &self.notes[start..end],
            total: self.notes.len() as u32,
            offset,
            limit,
        };
        Ok(serde_json::to_vec(&page).expect("a page serializes"))
    }
}

/// Reads and checks a note from a request body, with zzz's statuses and titles.
fn read_input(content_type: Option<&[u8]>, body: &[u8]) -> Result<NoteInput, Problem> {
    if !content_type.is_some_and(is_json_media_type) {
        let got = content_type.map_or("-".into(), String::from_utf8_lossy);
        return Err(Problem::new(
            415,
            "Unsupported Media Type",
            format!("the body must be application/json, not {got}"),
        ));
    }
    let input: NoteInput = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            Problem::new(
                422,
                "Invalid body",
                format!("the body does not match its schema: {e}"),
            )
        } else {
            Problem::new(
                400,
                "Malformed JSON",
                format!("the body is not valid JSON: {e}"),
            )
        }
    })?;
    let invalid = |detail: String| Problem::new(422, "Invalid body", detail);
    let title = input.title.chars().count();
    if title < 1 {
        return Err(invalid("`title` is shorter than 1 character".into()));
    }
    if title > TITLE_MAX {
        return Err(invalid(format!(
            "`title` is longer than {TITLE_MAX} characters"
        )));
    }
    if input.text.chars().count() > TEXT_MAX {
        return Err(invalid(format!(
            "`text` is longer than {TEXT_MAX} characters"
        )));
    }
    Ok(input)
}

/// `application/json`, parameters allowed, case-insensitive (zzz's `is_json_media_type`).
fn is_json_media_type(value: &[u8]) -> bool {
    let essence = value.split(|&b| b == b';').next().unwrap_or(&[]);
    essence
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/json")
}

/// A query parameter as an integer in `min..=max` (plain digits after percent-decoding), its
/// default when absent; the first occurrence counts.
fn query_int(query: Option<&str>, name: &str, default: u32, min: u32, max: u32) -> Result<u32, ()> {
    let Some(raw) = query.unwrap_or("").split('&').find_map(|pair| {
        pair.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }) else {
        return Ok(default);
    };
    let text = percent_decode(raw).ok_or(())?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let value: u32 = text.parse().map_err(|_| ())?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(())
    }
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// zzz's answer (problem details, 400) to an id that is not a `u32`, given before the handler
/// runs.
pub const BAD_ID_BODY: &str = concat!(
    r#"{"type":"about:blank","title":"Invalid path parameter","status":400,"#,
    r#""detail":"path parameter `id` does not have the declared type"}"#
);
