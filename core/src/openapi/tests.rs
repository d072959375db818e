//! The generator against small tables: layout, drift checks, components, streaming.

use super::*;
use crate::router::{HeaderDoc, ParamDoc, QueryParam};
use crate::schema::Property;
use std::string::String;
use std::vec::Vec;

fn nothing(ctx: &mut Ctx<'_, ()>, _: &Request<'_>) -> Response {
    ctx.empty(Status::NO_CONTENT)
}

const INFO: ApiInfo = ApiInfo {
    title: "t",
    version: "1",
    description: "",
};

fn doc(routes: &[Route<()>]) -> Result<String, SpecError> {
    let mut s = String::new();
    write(&INFO, routes, Style::Compact, &mut s).map(|_| s)
}

/// The `paths` member of a compact document.
fn paths(routes: &[Route<()>]) -> String {
    let s = doc(routes).unwrap();
    let start = s.find("\"paths\":").unwrap() + 8;
    let end = s.find(",\"components\"").unwrap_or(s.len() - 1);
    s[start..end].into()
}

#[test]
fn empty_table() {
    assert_eq!(
        doc(&[]).unwrap(),
        r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}"#
    );
}

/// Path parameters come from the pattern: names, types as schemas, required (OpenAPI 3.1
/// §4.8.12.2: path parameters must be required); the typed one adds the server's own 400.
#[test]
fn path_parameters_from_the_pattern() {
    const ROUTES: &[Route<()>] = &[Route::get("/users/{id:u8}/files/{*path}", nothing)
        .path_params(&[ParamDoc {
            name: "id",
            description: "who",
        }])];
    assert_eq!(
        paths(ROUTES),
        concat!(
            r#"{"/users/{id}/files/{path}":{"get":{"parameters":["#,
            r#"{"name":"id","in":"path","required":true,"description":"who","schema":{"type":"integer","minimum":0,"maximum":255}},"#,
            r#"{"name":"path","in":"path","required":true,"description":"The rest of the path; may contain `/`.","schema":{"type":"string"}}],"#,
            r##""responses":{"400":{"description":"A path parameter is not of its declared type.","content":{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}}}}}}}"##
        )
    );
    assert!(
        doc(ROUTES)
            .unwrap()
            .contains(r#""components":{"schemas":{"Problem":{"#)
    );
}

#[test]
fn untyped_parameters_add_nothing() {
    const ROUTES: &[Route<()>] = &[Route::get("/a/{name}", nothing)];
    assert_eq!(
        paths(ROUTES),
        r#"{"/a/{name}":{"get":{"parameters":[{"name":"name","in":"path","required":true,"schema":{"type":"string","minLength":1}}]}}}"#
    );
}

/// Operations of one path are grouped, in OpenAPI's order, whatever the table's order; paths
/// keep the table's order; hidden routes are left out.
#[test]
fn grouping_and_order() {
    const ROUTES: &[Route<()>] = &[
        Route::post("/b", nothing).id("postB"),
        Route::get("/a", nothing).id("getA"),
        Route::get("/b", nothing).id("getB"),
        Route::delete("/b", nothing).id("deleteB").hidden(),
        Route::get("/hidden", nothing).hidden(),
    ];
    assert_eq!(
        paths(ROUTES),
        r#"{"/b":{"get":{"operationId":"getB"},"post":{"operationId":"postB"}},"/a":{"get":{"operationId":"getA"}}}"#
    );
}

/// OpenAPI 3.1 path items name only eight methods: extension-method routes and `Route::any`
/// are left out (and so is a path that has no other route), never written as a field
/// OpenAPI does not define; the routes that can be named are written as usual, and an
/// operationId on a left-out route does not count as used.
#[test]
fn extension_and_any_routes_are_left_out() {
    const ROUTES: &[Route<()>] = &[
        Route::method("PURGE", "/cache/{*key}", nothing).id("purge"),
        Route::get("/cache/{*key}", nothing).id("getCache"),
        Route::any("/cache/{*key}", nothing).id("anyCache"),
        Route::method("QUERY", "/search", nothing).id("query"),
        Route::any("/echo", nothing),
        Route::method("GET", "/plain", nothing).id("purge"),
    ];
    assert_eq!(
        paths(ROUTES),
        r#"{"/cache/{key}":{"get":{"operationId":"getCache","parameters":[{"name":"key","in":"path","required":true,"description":"The rest of the path; may contain `/`.","schema":{"type":"string"}}]}},"/plain":{"get":{"operationId":"purge"}}}"#
    );
}

static NAMED: Schema = Schema::Named {
    name: "Thing",
    description: "A thing.",
    schema: &Schema::Object {
        properties: &[
            Property {
                name: "n",
                schema: &Schema::Nullable(u16::SCHEMA),
                required: false,
                description: "",
            },
            Property {
                name: "kind",
                schema: &Schema::Nullable(&Schema::StringEnum(&["a", "b"])),
                required: true,
                description: "Its kind.",
            },
        ],
    },
};

static NULLABLE_NAMED: Schema = Schema::Nullable(&NAMED);

/// A query parameter, a body, merged responses with headers; components once each.
#[test]
fn operation_members() {
    const RESPONSES: &[ResponseDoc] = &[
        ResponseDoc::new(200, "ok", "application/json", &NAMED).with_headers(&[HeaderDoc {
            name: "X-N",
            description: "",
            schema: u8::SCHEMA,
        }]),
        ResponseDoc::new(200, "or text", "text/plain", str::SCHEMA),
        ResponseDoc::new(413, "too big for me", "application/json", &NULLABLE_NAMED),
    ];
    const ROUTES: &[Route<()>] = &[Route::put("/x", nothing)
        .id("putX")
        .tags(&["t"])
        .query(&[QueryParam {
            name: "q",
            schema: bool::SCHEMA,
            required: false,
            description: "",
        }])
        .body("application/json", &NAMED)
        .responses(RESPONSES)];
    assert_eq!(
        paths(ROUTES),
        concat!(
            r#"{"/x":{"put":{"operationId":"putX","tags":["t"],"#,
            r#""parameters":[{"name":"q","in":"query","required":false,"schema":{"type":"boolean"}}],"#,
            r##""requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}}}},"##,
            r#""responses":{"#,
            r##""200":{"description":"ok or text","headers":{"X-N":{"schema":{"type":"integer","minimum":0,"maximum":255}}},"##,
            r##""content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}},"text/plain":{"schema":{"type":"string"}}}},"##,
            r##""413":{"description":"too big for me The body is larger than the server accepts.","##,
            r##""content":{"application/json":{"schema":{"anyOf":[{"$ref":"#/components/schemas/Thing"},{"type":"null"}]}},"text/plain":{"schema":{"type":"string"}}}}}}}}"##,
        )
    );
    let s = doc(ROUTES).unwrap();
    assert!(s.ends_with(concat!(
        r#""components":{"schemas":{"Thing":{"description":"A thing.","type":"object","properties":{"#,
        r#""n":{"type":["integer","null"],"minimum":0,"maximum":65535},"#,
        r#""kind":{"description":"Its kind.","type":["string","null"],"enum":["a","b",null]}},"#,
        r#""required":["kind"],"additionalProperties":false}}}}"#
    )));
}

/// The documentation cannot describe what the pattern does not have.
#[test]
fn drift_is_an_error() {
    const ROUTES: &[Route<()>] = &[Route::get("/a/{id}", nothing).path_params(&[ParamDoc {
        name: "ident",
        description: "",
    }])];
    assert_eq!(
        doc(ROUTES),
        Err(SpecError::UnknownPathParam {
            route: (Method::Get.into(), "/a/{id}"),
            name: "ident"
        })
    );
}

#[test]
fn table_errors() {
    const TWICE: &[Route<()>] = &[
        Route::get("/a", nothing).id("x"),
        Route::get("/b", nothing).id("x"),
    ];
    assert_eq!(doc(TWICE), Err(SpecError::DuplicateOperationId("x")));

    static OTHER: Schema = Schema::Named {
        name: "Thing",
        description: "",
        schema: &Schema::Boolean,
    };
    const CONFLICT: &[Route<()>] = &[
        Route::post("/a", nothing).body("application/json", &NAMED),
        Route::post("/b", nothing).body("application/json", &OTHER),
    ];
    assert_eq!(doc(CONFLICT), Err(SpecError::NameConflict("Thing")));

    const SAME: &[ResponseDoc] = &[ResponseDoc::empty(204, "a"), ResponseDoc::empty(204, "b")];
    const DUPLICATE: &[Route<()>] = &[Route::get("/a", nothing).responses(SAME)];
    assert_eq!(
        doc(DUPLICATE),
        Err(SpecError::DuplicateResponse {
            route: (Method::Get.into(), "/a"),
            status: 204
        })
    );

    const BAD: &[Route<()>] = &[Route::get("a", nothing)];
    assert!(matches!(doc(BAD), Err(SpecError::InvalidPattern { .. })));
}

static LOOP: Schema = Schema::Array {
    items: &LOOP,
    max_items: None,
};

#[test]
fn a_cycle_without_a_name_is_too_deep() {
    const ROUTES: &[Route<()>] = &[Route::post("/a", nothing).body("application/json", &LOOP)];
    assert_eq!(doc(ROUTES), Err(SpecError::TooDeep));
}

#[test]
fn too_small_a_buffer() {
    let mut buf = [0u8; 40];
    assert_eq!(
        write_to_slice(&INFO, &[] as &[Route<()>], Style::Pretty, &mut buf),
        Err(SpecError::Destination)
    );
}

struct Api;

fn api_nothing(ctx: &mut Ctx<'_, Api>, _: &Request<'_>) -> Response {
    ctx.empty(Status::NO_CONTENT)
}

impl Documented for Api {
    const INFO: ApiInfo = ApiInfo {
        title: "streamed",
        version: "2",
        description: "A document long enough to take several pieces.",
    };
    const ROUTES: &'static [Route<Api>] = &[
        Route::get("/things/{id:u64}", api_nothing).id("getThing"),
        Route::post("/things", api_nothing)
            .id("postThing")
            .body("application/json", &NAMED),
        route(),
    ];
}

/// The served document, written again for each piece from where the last one stopped, is the
/// document byte for byte, whatever the size of the pieces.
#[test]
fn streamed_in_pieces() {
    let mut whole = String::new();
    write(&Api::INFO, Api::ROUTES, Style::Pretty, &mut whole).unwrap();
    assert_eq!(len(&Api::INFO, Api::ROUTES, Style::Pretty), Ok(whole.len()));
    assert!(
        !whole.contains("openapi.json"),
        "the document's own route is hidden"
    );
    for piece in [1, 7, 100, whole.len() - 1, whole.len(), whole.len() + 5] {
        let mut cursor = StreamCursor::default();
        let mut got: Vec<u8> = Vec::new();
        for _ in 0..=whole.len() {
            let mut buf = std::vec![0u8; piece];
            let mut scalars = crate::server::HubScalars::default();
            let mut out = StreamOut {
                writer: crate::http::ByteWriter::new(&mut buf),
                feed: crate::server::Feed::none(&mut scalars),
                now: crate::Now::default(),
            };
            let step = produce::<Api>(&mut Api, &mut cursor, &mut out);
            got.extend_from_slice(out.writer.written());
            if step == StreamStep::Done {
                break;
            }
        }
        assert_eq!(
            core::str::from_utf8(&got).unwrap(),
            whole,
            "pieces of {piece}"
        );
    }
}
