//! Rebuilds the binary when the web console's build (`web/dist`) changes, so a release
//! build always embeds the console as it is on disk. The folder is created empty when the
//! console was never built (it is ignored by git), so that a later `npm run build` in
//! `web/` is noticed; until then the binary serves a page saying how to build it.
fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist");
    if let Err(error) = std::fs::create_dir_all(&dist) {
        println!("cargo:warning=cannot create {}: {error}", dist.display());
    }
    println!("cargo:rerun-if-changed=../web/dist");
}
