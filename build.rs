//! Build script of the root crate: gzip copies of the example site's static files.
//!
//! Each file in `examples/site/static/` is compressed at the best level into
//! `$OUT_DIR/site-static/NAME.gz`, which `src/site` embeds beside the original with
//! `include_bytes!`. Made at build time rather than committed, the copies can never drift
//! from their sources; the gzip header carries no timestamp or name, so the bytes (and
//! the entity tags computed from them) are the same on every build.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::GzBuilder;

fn main() {
    let source = Path::new("examples/site/static");
    println!("cargo::rerun-if-changed={}", source.display());
    let out =
        Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("site-static");
    fs::create_dir_all(&out).expect("OUT_DIR is writable");
    let mut entries: Vec<_> = fs::read_dir(source)
        .expect("examples/site/static exists")
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        println!("cargo::rerun-if-changed={}", path.display());
        let data = fs::read(&path).expect("a readable static file");
        let mut encoder = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::best());
        encoder.write_all(&data).expect("compressing in memory");
        let gz = encoder.finish().expect("compressing in memory");
        let name = path.file_name().expect("a file name").to_string_lossy();
        fs::write(out.join(format!("{name}.gz")), gz).expect("OUT_DIR is writable");
    }
}
