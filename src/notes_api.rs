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
use zzz_core::{App, Config, Ctx, Out, Request, Response, Route, Router};

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
/// The scratch room a note's strings with escapes are decoded into: a title and a text of
/// their longest, and the three keys (a client may escape those too). Past it the body is
/// `422`, as a string past its limit is.
pub const INPUT_SCRATCH: usize = (TITLE_MAX + TEXT_MAX) * UTF8_MAX + "titletextdone".len();
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
//
// (Not in the doc comment, which is the schema's description.) Its strings are borrowed from
// the request body, or from the scratch buffer a string with escapes is decoded into
// (`INPUT_SCRATCH`), so that it is a few words to move: with `heapless::String`s it was
// 2.3 KiB, moved some eight times on its way out of the derived deserializer, 1,670
// instructions of each `POST /notes` (callgrind, bench cell at 64 connections).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NoteInput<'r> {
    /// Its title.
    #[schema(min_length = 1, max_length = 80)]
    pub title: &'r str,
    /// Its text; empty when left out.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub text: &'r str,
    /// Whether it is done; `false` when left out.
    #[serde(default)]
    pub done: bool,
}

/// One page of notes, in the order they were created.
#[derive(Serialize, JsonSchema, Debug)]
pub struct NotePage<'a> {
    /// The notes of this page.
    pub items: NoteSeq<'a>,
    /// How many notes the store holds.
    pub total: u32,
    /// How many notes precede this page.
    pub offset: u32,
    /// The most notes this page could hold.
    pub limit: u32,
}

/// Notes in the order they were created, borrowed from the store: a page's items, or all of
/// them. The store keeps notes where they were written and their order apart (see [`Notes`]),
/// so this is a view through that order rather than a slice; it serializes as the JSON array
/// of its notes, and documents itself as `[Note]` does, so that a page's body and schema are
/// those of a slice of notes.
#[derive(Clone, Copy)]
pub struct NoteSeq<'a> {
    slots: &'a [Note],
    order: &'a [u8],
}

impl<'a> NoteSeq<'a> {
    /// The notes, in order of creation.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a Note> + 'a {
        let slots = self.slots;
        self.order
            .iter()
            .map(move |&slot| &slots[usize::from(slot)])
    }

    /// How many notes there are.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl Serialize for NoteSeq<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl JsonSchema for NoteSeq<'_> {
    const SCHEMA: &'static Schema = <[Note] as JsonSchema>::SCHEMA;
}

impl core::fmt::Debug for NoteSeq<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The store: notes in fixed slots, and the slot numbers of the notes in order of creation (so
/// in order of id). A note stays in the slot it was written to until it is deleted: a delete
/// takes its slot number out of the order (moving the later numbers, a byte each) and leaves
/// the slot to the next note created, so that no note (2.3 KiB of room each) is ever moved.
/// Its 150 KiB of slots are taken once, on the heap, when the app is made: moved around on an
/// instance thread's stack they would overflow it in a debug build.
pub struct NoteStore {
    /// The notes written so far, live or deleted: a slot holds a live note if its number is in
    /// `order`, and otherwise waits in `free`. Only grows (to [`CAPACITY`]) while no slot is
    /// free.
    slots: Box<heapless::Vec<Note, CAPACITY>>,
    /// The slot numbers of the live notes, in order of id.
    order: heapless::Vec<u8, CAPACITY>,
    /// The slots of deleted notes, to be written over before `slots` grows.
    free: heapless::Vec<u8, CAPACITY>,
    next_id: u32,
}

/// The API's state: the store, and the room a body's strings with escapes are decoded into.
#[derive(Debug)]
pub struct Notes {
    /// The notes.
    pub store: NoteStore,
    /// Where `POST` and `PUT` decode the strings with escapes of a body ([`INPUT_SCRATCH`]
    /// bytes), written over by each request. It is state rather than a local array because a
    /// local one is zeroed for each request: 2.3 KiB, which cost the bench's POST cell more
    /// instructions (2,350 a `POST` under callgrind) than the moves of an owned input it had
    /// removed.
    input_scratch: [u8; INPUT_SCRATCH],
}

impl Default for Notes {
    fn default() -> Self {
        Notes {
            store: NoteStore::default(),
            input_scratch: [0; INPUT_SCRATCH],
        }
    }
}

/// Slot numbers are bytes.
const _: () = assert!(CAPACITY <= u8::MAX as usize + 1);

impl Default for NoteStore {
    fn default() -> Self {
        NoteStore {
            slots: Box::default(),
            order: heapless::Vec::new(),
            free: heapless::Vec::new(),
            next_id: 1,
        }
    }
}

/// The live notes and the next id only: what a deleted note's slot still holds is no state.
impl core::fmt::Debug for NoteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NoteStore")
            .field("notes", &self.all())
            .field("next_id", &self.next_id)
            .finish()
    }
}

impl NoteStore {
    /// Where in `order` the note `id` is, found by its id: ids increase along the order.
    fn position(&self, id: u32) -> Option<usize> {
        self.order
            .binary_search_by_key(&id, |&slot| self.slots[usize::from(slot)].id)
            .ok()
    }

    /// The note `id`, if it is stored.
    pub fn get(&self, id: u32) -> Option<&Note> {
        let at = self.position(id)?;
        Some(&self.slots[usize::from(self.order[at])])
    }

    /// How many notes the store holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the store holds no note.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// All the notes, in order of creation.
    pub fn all(&self) -> NoteSeq<'_> {
        NoteSeq {
            slots: &self.slots,
            order: &self.order,
        }
    }

    /// The notes a page shows: at most `limit` from the `offset`th on (none past the end).
    fn page(&self, offset: u32, limit: u32) -> NoteSeq<'_> {
        let start = (offset as usize).min(self.order.len());
        let end = start.saturating_add(limit as usize).min(self.order.len());
        NoteSeq {
            slots: &self.slots,
            order: &self.order[start..end],
        }
    }

    /// Stores a new note with the next id; `None` if the store is full (or the ids are spent).
    fn insert(&mut self, input: &NoteInput<'_>) -> Option<&Note> {
        if self.order.is_full() || self.next_id == u32::MAX {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                // No slot is free, so every slot is live, and the order is not full.
                let slot = self.slots.len() as u8;
                self.slots.push(Note::empty()).expect("a slot is left");
                slot
            }
        };
        let note = &mut self.slots[usize::from(slot)];
        note.write(id, input);
        // The newest id is the greatest: its place is the end.
        self.order.push(slot).expect("the order is not full");
        Some(note)
    }

    /// Replaces the note `id`'s title, text and state; `None` if it is not stored.
    fn replace(&mut self, id: u32, input: &NoteInput<'_>) -> Option<&Note> {
        let slot = usize::from(self.order[self.position(id)?]);
        let note = &mut self.slots[slot];
        note.write(id, input);
        Some(note)
    }

    /// Deletes the note `id`; `false` if it is not stored.
    fn remove(&mut self, id: u32) -> bool {
        let Some(at) = self.position(id) else {
            return false;
        };
        let slot = self.order.remove(at);
        // Slots are either live or free, so there is room.
        self.free.push(slot).expect("a slot is live or free");
        true
    }
}

impl Note {
    /// A note of no title and no text, for a slot about to be written.
    fn empty() -> Note {
        Note {
            id: 0,
            title: heapless::String::new(),
            text: heapless::String::new(),
            done: false,
        }
    }

    /// Makes this note `input` with `id`, copying only the bytes its strings hold (a note has
    /// room for 2.3 KiB). The input is valid (`NoteInput::validate`), so its strings fit.
    fn write(&mut self, id: u32, input: &NoteInput<'_>) {
        self.id = id;
        self.title.clear();
        self.title
            .push_str(input.title)
            .expect("a valid title has room: 80 characters of at most 4 bytes");
        self.text.clear();
        self.text
            .push_str(input.text)
            .expect("a valid text has room: 500 characters of at most 4 bytes");
        self.done = input.done;
    }
}

/// Reads and checks a note from the body, its strings with escapes decoded into `scratch`,
/// or answers the problem.
fn read_input<'r>(
    out: &mut Out<Notes>,
    req: &Request<'r>,
    scratch: &'r mut [u8; INPUT_SCRATCH],
) -> Result<NoteInput<'r>, Response> {
    let input: NoteInput = match zzz_core::json::read_request(req, scratch) {
        Ok(input) => input,
        Err(error @ BodyError::UnsupportedMediaType) => {
            return Err(out.problem(
                error.status(),
                error.title(),
                format_args!(
                    "{error}, not {}",
                    req.header_str("Content-Type").unwrap_or("-")
                ),
            ));
        }
        Err(error) => {
            return Err(out.problem(error.status(), error.title(), format_args!("{error}")));
        }
    };
    if let Err(violation) = input.validate() {
        return Err(out.problem(
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
    let store = &ctx.state.store;
    let page = NotePage {
        items: store.page(offset, limit),
        total: store.len() as u32,
        offset,
        limit,
    };
    ctx.out.respond(Status::OK).json(&page)
}

fn create_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let Notes {
        store,
        input_scratch,
    } = &mut *ctx.state;
    let input = match read_input(&mut ctx.out, req, input_scratch) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let Some(note) = store.insert(&input) else {
        return ctx.out.problem(
            Status::CONFLICT,
            "Store full",
            format_args!("the store holds {CAPACITY} notes; delete one first"),
        );
    };
    ctx.out
        .respond(Status::CREATED)
        .header_fmt("Location", format_args!("/notes/{}", note.id))
        .json(note)
}

fn get_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let id: u32 = req.param("id").expect("the router checked the type");
    match ctx.state.store.get(id) {
        Some(note) => ctx.out.respond(Status::OK).json(note),
        None => not_found(ctx, id),
    }
}

fn replace_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let id: u32 = req.param("id").expect("the router checked the type");
    // A missing note is 404 whatever the body.
    if ctx.state.store.get(id).is_none() {
        return not_found(ctx, id);
    }
    let Notes {
        store,
        input_scratch,
    } = &mut *ctx.state;
    let input = match read_input(&mut ctx.out, req, input_scratch) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let note = store.replace(id, &input).expect("the note is stored");
    ctx.out.respond(Status::OK).json(note)
}

fn delete_note(ctx: &mut Ctx<Notes>, req: &Request) -> Response {
    let id: u32 = req.param("id").expect("the router checked the type");
    if ctx.state.store.remove(id) {
        ctx.out.empty(Status::NO_CONTENT)
    } else {
        not_found(ctx, id)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(title: &str) -> NoteInput<'_> {
        NoteInput {
            title,
            text: "",
            done: false,
        }
    }

    /// The note `input` makes with `id`, field by field (what `Note::write` must leave).
    fn note_from(id: u32, input: NoteInput) -> Note {
        Note {
            id,
            title: input.title.try_into().unwrap(),
            text: input.text.try_into().unwrap(),
            done: input.done,
        }
    }

    /// A note whose text and state vary with `n`, so that a slot written again holds a
    /// shorter or longer text than before.
    fn varied_input(title: &str, n: u32) -> NoteInput<'_> {
        const ACCENTS: &str = "éééééééééééééééééééééééééééé";
        NoteInput {
            text: &ACCENTS[..(n % 5) as usize * 7 * 'é'.len_utf8()],
            done: n.is_multiple_of(2),
            ..input(title)
        }
    }

    /// `value` as the server writes it.
    fn json(value: &impl Serialize) -> Vec<u8> {
        let mut buf = [0u8; 4096];
        let n = zzz_core::json::to_slice(value, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn ids(notes: NoteSeq<'_>) -> Vec<u32> {
        notes.iter().map(|n| n.id).collect()
    }

    /// A full store refuses the next note; deletes anywhere (first, middle, last) make room,
    /// the new notes take the freed slots (the slots never outgrow the capacity) and still
    /// list after every older note.
    #[test]
    fn deletes_free_slots_and_keep_the_order() {
        let mut store = NoteStore::default();
        for i in 1..=CAPACITY as u32 {
            assert_eq!(store.insert(&input("n")).map(|n| n.id), Some(i));
        }
        assert!(store.insert(&input("one more")).is_none());
        for id in [3, 1, 64, 30] {
            assert!(store.remove(id));
            assert!(!store.remove(id));
            assert!(store.get(id).is_none());
        }
        for id in 65..=68 {
            assert_eq!(store.insert(&input("again")).map(|n| n.id), Some(id));
        }
        assert!(store.insert(&input("one more")).is_none());
        assert_eq!(store.slots.len(), CAPACITY);
        let want: Vec<u32> = (2..=63)
            .filter(|&i| i != 3 && i != 30)
            .chain(65..=68)
            .collect();
        assert_eq!(ids(store.all()), want);
        assert_eq!(ids(store.page(60, 25)), want[60..]);
        assert!(store.page(64, 1).is_empty());
        assert!(store.page(u32::MAX, PAGE_MAX).is_empty());
    }

    /// A page serializes as it did when its items were a slice of notes.
    #[test]
    fn a_page_is_written_as_a_slice_of_notes() {
        let mut store = NoteStore::default();
        for title in ["a \"quoted\" title", "b", "c"] {
            store.insert(&input(title));
        }
        store.remove(2);
        store.insert(&input("d"));
        let copies: Vec<Note> = store.all().iter().cloned().collect();
        let as_slice = |items: &[Note]| {
            #[derive(Serialize)]
            struct SlicePage<'a> {
                items: &'a [Note],
                total: u32,
                offset: u32,
                limit: u32,
            }
            let page = SlicePage {
                items,
                total: 3,
                offset: 1,
                limit: 2,
            };
            json(&page)
        };
        let page = NotePage {
            items: store.page(1, 2),
            total: 3,
            offset: 1,
            limit: 2,
        };
        assert_eq!(json(&page), as_slice(&copies[1..3]));
        assert_eq!(NoteSeq::SCHEMA, <[Note] as JsonSchema>::SCHEMA);
    }

    proptest! {
        /// The store answers as the list it used to be (notes in order of id, deleted by
        /// removing them from the list): the same ids, notes, pages and full store.
        #[test]
        fn the_store_is_an_ordered_list(
            ops in proptest::collection::vec((0u8..4, 0usize..80, 0u32..80, 1u32..30), 1..300),
        ) {
            let mut store = NoteStore::default();
            let mut model: Vec<Note> = Vec::new();
            let mut next_id = 1;
            for (op, pick, offset, limit) in ops {
                match op {
                    // Half the operations create, so that the store fills now and then.
                    0 | 1 => {
                        let title = format!("note {next_id}");
                        let made = store.insert(&varied_input(&title, next_id)).cloned();
                        if model.len() < CAPACITY {
                            let note = note_from(next_id, varied_input(&title, next_id));
                            prop_assert_eq!(made.as_ref(), Some(&note));
                            model.push(note);
                            next_id += 1;
                        } else {
                            prop_assert!(made.is_none());
                        }
                    }
                    2 => {
                        // An id that is stored, most of the time, or one that is not.
                        let id = model.get(pick).map_or(pick as u32 + 1000, |n| n.id);
                        let at = model.iter().position(|n| n.id == id);
                        prop_assert_eq!(store.remove(id), at.is_some());
                        if let Some(at) = at {
                            model.remove(at);
                        }
                    }
                    _ => {
                        let id = model.get(pick).map_or(pick as u32 + 1000, |n| n.id);
                        let replaced = store.replace(id, &input("replaced")).cloned();
                        match model.iter_mut().find(|n| n.id == id) {
                            Some(note) => {
                                *note = note_from(id, input("replaced"));
                                prop_assert_eq!(replaced.as_ref(), Some(&*note));
                            }
                            None => prop_assert!(replaced.is_none()),
                        }
                    }
                }
                prop_assert_eq!(store.len(), model.len());
                prop_assert!(store.all().iter().eq(model.iter()));
                let start = (offset as usize).min(model.len());
                let end = (start + limit as usize).min(model.len());
                prop_assert!(store.page(offset, limit).iter().eq(model[start..end].iter()));
                for note in &model {
                    prop_assert_eq!(store.get(note.id), Some(note));
                }
            }
        }
    }
}
