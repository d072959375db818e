//! The notes API's OpenAPI document, pinned byte for byte.
//!
//! The document is generated from the route table, so any change to a route, a schema or the
//! generator shows up here as a diff to review. After an intended change, update the golden
//! file with:
//!
//! ```text
//! ZZZ_BLESS=1 cargo test --test openapi_golden
//! ```

use zzz::notes_api;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/notes-openapi.json"
);

#[test]
fn notes_document_matches_the_golden_file() {
    // The file holds the document as `--openapi` prints it: with a final newline.
    let document = notes_api::document() + "\n";
    if std::env::var_os("ZZZ_BLESS").is_some() {
        std::fs::write(GOLDEN, &document).expect("golden file written");
        return;
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("tests/golden/notes-openapi.json");
    if golden == document {
        return;
    }
    let line = golden
        .lines()
        .zip(document.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| golden.lines().count().min(document.lines().count()));
    panic!(
        "the notes document differs from tests/golden/notes-openapi.json from line {}:\n  \
         golden:    {:?}\n  generated: {:?}\n\
         If the change is intended: ZZZ_BLESS=1 cargo test --test openapi_golden",
        line + 1,
        golden.lines().nth(line),
        document.lines().nth(line)
    );
}

/// Generating twice gives the same bytes (nothing depends on addresses, time or order of
/// evaluation).
#[test]
fn generation_is_deterministic() {
    assert_eq!(notes_api::document(), notes_api::document());
}
