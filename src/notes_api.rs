//! A notes API over a fixed-capacity in-memory store, documented by the OpenAPI generator
//! alone: `examples/api.rs` serves it, the golden test pins its document, and CI runs
//! schemathesis against it.
//!
//! | route | answers |
//! |---|---|
//! | `GET /notes?limit&offset` | 200 a page of notes; 400 a bad query parameter |
//! | `POST /notes` | 201 the note, with `Location`; 400/415/422 a bad body; 409 the store is full |
//! | `GET /notes/{id}` | 200 the note; 404 |
//! | `PUT /notes/{id}` | 200 the note; 404; 400/415/422 a bad body |
//! | `DELETE /notes/{id}` | 204; 404 |
//! | `GET /openapi.json` | the document (hidden from itself) |
//!
//! Errors are problem details (RFC 9457). A full store is `409 Conflict` (RFC 9110 §15.5.10):
//! the request conflicts with the current state of the collection, and the client can resolve
//! it (delete a note) and resubmit. `507 Insufficient Storage` would say the same from the
//! server's side, but as a 5xx it reads as a server failure to every client and monitor (and
//! to schemathesis's `not_a_server_error`), while a bounded store is the API's contract.
//!
//! Each instance (thread) keeps its own store; `examples/api.rs` runs one.

use serde::{Deserialize, Serialize};
use zzz_core::JsonSchema;
use zzz_core::http::{QueryPairs, Status};
use zzz_core::json::BodyError;
use zzz_core::openapi::{self, ApiInfo, Documented};
use zzz_core::problem;
use zzz_core::router::{HeaderDoc, ParamDoc, QueryParam, ResponseDoc};
use zzz_core::schema::Schema;
use zzz_core::{App, Config, Ctx, Request, Response, Route, Router};

/// The most notes the store holds.
pub const CAPACITY: usize = 64;
/// The longest title, in characters.
pub const TITLE_MAX: usize = 80;
/// The longest text, in characters.
pub const TEXT_MAX: usize = 500;
/// The most UTF-8 bytes a character takes: strings are stored with room for their longest
/// characters, so that a limit in characters (JSON Schema's `maxLength`) is the only one.
const UTF8_MAX: usize = 4;
/// The document's `maxLength`s are literals in the `#[schema]` attributes below.
const _: () = assert!(TITLE_MAX == 80 && TEXT_MAX == 500);
/// The most notes on one page.
pub const PAGE_MAX: u32 = 25;
/// Notes on a page when `limit` is not given.
pub const PAGE_DEFAULT: u32 = 10;

/// A note.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct Note {
    /// Its identifier, given by the server.
    #[schema(minimum = 1)]
    pub id: u32,
    /// Its title.
    #[schema(min_length = 1, max_length = 80)]
    pub title: heapless::String<{ TITLE_MAX * UTF8_MAX }>,
    /// Its text.
    #[schema(max_length = 500)]
    pub text: heapless::String<{ TEXT_MAX * UTF8_MAX }>,
    /// Whether it is done.
    pub done: bool,
}

/// A note as a client writes it, to create one or to replace one. Length limits count
/// characters, as JSON Schema's `maxLength` does, whatever their UTF-8 length.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// Its title.
    #[schema(min_length = 1, max_length = 80)]
    pub title: heapless::String<{ TITLE_MAX * UTF8_MAX }>,
    /// Its text; empty when left out.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub text: heapless::String<{ TEXT_MAX * UTF8_MAX }>,
    /// Whether it is done; `false` when left out.
    #[serde(default)]
    pub done: bool,
}

/// One page of notes, in the order they were created.
#[derive(Serialize, JsonSchema, Debug)]
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

/// The store: notes in order of creation (so in order of id). Its 150 KiB are taken once,
/// on the heap, when the app is made: moved around on an instance thread's stack they would
/// overflow it in a debug build.
#[derive(Debug)]
pub struct Notes {
    notes: Box<heapless::Vec<Note, CAPACITY>>,
    next_id: u32,
}

impl Default for Notes {
    fn default() -> Self {
        Notes {
            notes: Box::default(),
            next_id: 1,
        }
    }
}

impl Notes {
    fn index(&self, id: u32) -> Option<usize> {
        self.notes.binary_search_by_key(&id, |n| n.id).ok()
    }

    /// All the notes.
    pub fn all(&self) -> &[Note] {
        &self.notes
    }
}

fn note_from(id: u32, input: NoteInput) -> Note {
    Note {
        id,
        title: input.title,
        text: input.text,
        done: input.done,
    }
}

/// Reads and checks a note from the body, or answers the problem.
fn read_input(ctx: &mut Ctx<Notes>, req: &Request) -> Result<NoteInput, Response> {
    // The longest string a note holds, decoded.
    let mut scratch = [0u8; TEXT_MAX * UTF8_MAX];
    let input: NoteInput = match zzz_core::json::read_request(req, &mut scratch) {
        Ok(input) => input,
        Err(error @ BodyError::UnsupportedMediaType) => {
            return Err(ctx.out.problem(
                error.status(),
                error.title(),
                format_args!(
                    "{error}, not {}",
                    req.header_str("Content-Type").unwrap_or("-")
                ),
            ));
        }
        Err(error) => {
            return Err(ctx
                .out
                .problem(error.status(), error.title(), format_args!("{error}")));
        }
    };
    if let Err(violation) = input.validate() {
        return Err(ctx.out.problem(
            Status::UNPROCESSABLE_CONTENT,
            "Invalid body",
            format_args!("{violation}"),
        ));
    }
    Ok(input)
}

fn not_found(ctx: &mut Ctx<Notes>, id: u32) -> Response {
    ctx.out.problem(
        Status::NOT_FOUND,
        "Not Found",
        format_args!("there is no note {id}"),
    )
}

/// A query parameter as an integer in `min..=max` (plain digits), its default when absent.
fn query_int(req: &Request, name: &str, default: u32, min: u32, max: u32) -> Result<u32, ()> {
    let Some(raw) = req.query_pairs().get(name) else {
        return Ok(default);
    };
    let mut buf = [0u8; 16];
    let text = QueryPairs::decode(raw, &mut buf).map_err(|_| ())?;
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

fn list_notes(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let Ok(limit) = query_int(req, "limit", PAGE_DEFAULT, 1, PAGE_MAX) else {
        return ctx.out.problem(
            Status::BAD_REQUEST,
            "Invalid query parameter",
            format_args!("`limit` must be an integer from 1 to {PAGE_MAX}"),
        );
    };
    let Ok(offset) = query_int(req, "offset", 0, 0, u32::MAX) else {
        return ctx.out.problem(
            Status::BAD_REQUEST,
            "Invalid query parameter",
            format_args!("`offset` must be an integer from 0 to {}", u32::MAX),
        );
    };
    let notes = &ctx.state.notes;
    let start = (offset as usize).min(notes.len());
    let end = (start + limit as usize).min(notes.len());
    let page = NotePage {
        items: &notes[start..end],
        total: notes.len() as u32,
        offset,
        limit,
    };
    ctx.out.respond(Status::OK).json(&page)
}

fn create_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let input = match read_input(ctx, req) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let store = &mut ctx.state;
    if store.notes.is_full() || store.next_id == u32::MAX {
        return ctx.out.problem(
            Status::CONFLICT,
            "Store full",
            format_args!("the store holds {CAPACITY} notes; delete one first"),
        );
    }
    let id = store.next_id;
    store.next_id += 1;
    let note = note_from(id, input);
    let _ = store.notes.push(note);
    let note = store.notes.last().expect("just pushed");
    ctx.out
        .respond(Status::CREATED)
        .header_fmt("Location", format_args!("/notes/{id}"))
        .json(note)
}

fn get_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let id: u32 = req.param("id").expect("the router checked the type");
    match ctx.state.index(id) {
        Some(i) => ctx.out.respond(Status::OK).json(&ctx.state.notes[i]),
        None => not_found(ctx, id),
    }
}

fn replace_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let id: u32 = req.param("id").expect("the router checked the type");
    let Some(i) = ctx.state.index(id) else {
        return not_found(ctx, id);
    };
    let input = match read_input(ctx, req) {
        Ok(input) => input,
        Err(response) => return response,
    };
    ctx.state.notes[i] = note_from(id, input);
    ctx.out.respond(Status::OK).json(&ctx.state.notes[i])
}

fn delete_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let id: u32 = req.param("id").expect("the router checked the type");
    match ctx.state.index(id) {
        Some(i) => {
            ctx.state.notes.remove(i);
            ctx.out.empty(Status::NO_CONTENT)
        }
        None => not_found(ctx, id),
    }
}

/// `limit`: 1 to [`PAGE_MAX`].
const LIMIT: &Schema = &u32::SCHEMA.with_range(Some(1), Some(PAGE_MAX as i64));

/// A `Location` value.
const URL: &Schema = &str::SCHEMA.with_format("uri-reference");

const ID: &[ParamDoc] = &[ParamDoc {
    name: "id",
    description: "The note's identifier.",
}];

const PAGE_QUERY: &[QueryParam] = &[
    QueryParam {
        name: "limit",
        schema: LIMIT,
        required: false,
        description: "The most notes to return (default 10).",
    },
    QueryParam {
        name: "offset",
        schema: u32::SCHEMA,
        required: false,
        description: "How many notes to skip (default 0).",
    },
];

const NOT_FOUND: ResponseDoc = problem::doc(404, "There is no note with this id.");
const MALFORMED: ResponseDoc = problem::doc(400, "The body is not JSON text.");
const NOT_JSON: ResponseDoc = problem::doc(415, "The body is not `application/json`.");
const INVALID: ResponseDoc = problem::doc(
    422,
    "The body is JSON but not a valid note: a property is missing, unknown, of the wrong type, \
     or out of its bounds.",
);

const LIST_RESPONSES: &[ResponseDoc] = &[
    ResponseDoc::new(
        200,
        "A page of notes.",
        "application/json",
        NotePage::SCHEMA,
    ),
    problem::doc(400, "`limit` or `offset` is not an integer in its range."),
];

const CREATE_RESPONSES: &[ResponseDoc] = &[
    ResponseDoc::new(201, "The note, created.", "application/json", Note::SCHEMA).with_headers(&[
        HeaderDoc {
            name: "Location",
            description: "The new note's URL.",
            schema: URL,
        },
    ]),
    MALFORMED,
    problem::doc(
        409,
        "The store is full (it holds 64 notes): delete one, then retry.",
    ),
    NOT_JSON,
    INVALID,
];

const GET_RESPONSES: &[ResponseDoc] = &[
    ResponseDoc::new(200, "The note.", "application/json", Note::SCHEMA),
    NOT_FOUND,
];

const REPLACE_RESPONSES: &[ResponseDoc] = &[
    ResponseDoc::new(200, "The note, replaced.", "application/json", Note::SCHEMA),
    MALFORMED,
    NOT_FOUND,
    NOT_JSON,
    INVALID,
];

const DELETE_RESPONSES: &[ResponseDoc] = &[ResponseDoc::empty(204, "The note is gone."), NOT_FOUND];

impl Documented for Notes {
    const INFO: ApiInfo = ApiInfo {
        title: "zzz notes",
        version: "1.0.0",
        description: "Notes in a fixed-capacity in-memory store, served by zzz. Every error is \
                      problem details (RFC 9457).",
    };

    const ROUTES: &'static [Route<Notes>] = &[
        Route::get("/notes", list_notes)
            .id("listNotes")
            .summary("List notes")
            .description("A page of the notes, in the order they were created.")
            .tags(&["notes"])
            .query(PAGE_QUERY)
            .responses(LIST_RESPONSES),
        Route::post("/notes", create_note)
            .id("createNote")
            .summary("Create a note")
            .tags(&["notes"])
            .body("application/json", NoteInput::SCHEMA)
            .responses(CREATE_RESPONSES),
        Route::get("/notes/{id:u32}", get_note)
            .id("getNote")
            .summary("Get a note")
            .tags(&["notes"])
            .path_params(ID)
            .responses(GET_RESPONSES),
        Route::put("/notes/{id:u32}", replace_note)
            .id("replaceNote")
            .summary("Replace a note")
            .description("Replaces the note's title, text and state; its id stays.")
            .tags(&["notes"])
            .path_params(ID)
            .body("application/json", NoteInput::SCHEMA)
            .responses(REPLACE_RESPONSES),
        Route::delete("/notes/{id:u32}", delete_note)
            .id("deleteNote")
            .summary("Delete a note")
            .tags(&["notes"])
            .path_params(ID)
            .responses(DELETE_RESPONSES),
        openapi::route(),
    ];
}

/// The configuration the example serves with: small pools, and large buffers that hold the
/// largest page of notes with every character escaped.
pub const CONFIG: Config = {
    let mut config = Config::DEFAULT;
    config.max_connections = 256;
    config.large_buffers = 8;
    config.large_buffer_size = 256 * 1024;
    config.limits.max_body = 16 * 1024;
    config
};

/// The app, with an empty store.
pub fn app() -> App<Notes> {
    App::new(
        Notes::default(),
        Router::new(Notes::ROUTES).expect("the notes routes are valid"),
    )
}

/// The OpenAPI document, as served.
pub fn document() -> String {
    let mut out = String::new();
    openapi::write(
        &Notes::INFO,
        Notes::ROUTES,
        zzz_core::json::Style::Pretty,
        &mut out,
    )
    .expect("the notes document is valid");
    out
}
