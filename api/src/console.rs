//! The operator console: the React app of `web/`, built into `web/dist` and embedded in the
//! binary (a release build carries it; a debug build reads `web/dist` from disk).
//!
//! Every `GET`/`HEAD` outside the API (`/v1/…`, `/metrics`, `/healthz`, `/readyz`) is the
//! console's: a built asset by its path, else `index.html`, so a deep link such as
//! `/clusters/cl_…` loads the app, which routes it. Hashed assets under `/assets/` are
//! cached for a year; `index.html` is revalidated on every load. Without a built console the
//! binary answers a short page that says how to build it (`cargo build` never needs npm).

use std::borrow::Cow;

use bytes::Bytes;
use rust_embed::RustEmbed;
use warp::filters::BoxedFilter;
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::http::{HeaderValue, Method, StatusCode};
use warp::reply::Response;
use warp::Filter;

/// The built console (`web/dist`).
#[derive(RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct Assets;

/// Paths the console never answers: the API's.
const API_PREFIXES: [&str; 4] = ["/v1", "/metrics", "/healthz", "/readyz"];

/// `GET`/`HEAD` of any path outside the API.
pub fn routes() -> BoxedFilter<(Response,)> {
    warp::method()
        .and(warp::path::full())
        .and_then(|method: Method, path: warp::path::FullPath| async move {
            let path = path.as_str();
            let api = API_PREFIXES.iter().any(|prefix| {
                path.strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            });
            if api || (method != Method::GET && method != Method::HEAD) {
                return Err(warp::reject::not_found());
            }
            Ok(serve(path))
        })
        .boxed()
}

/// The asset at `path`, else the app's `index.html`, else the page saying how to build it.
pub fn serve(path: &str) -> Response {
    let name = path.trim_start_matches('/');
    if let Some(file) = (!name.is_empty()).then(|| Assets::get(name)).flatten() {
        let immutable = name.starts_with("assets/");
        return reply(
            StatusCode::OK,
            file.metadata.mimetype(),
            body(file.data),
            immutable,
        );
    }
    let html = "text/html; charset=utf-8";
    match Assets::get("index.html") {
        Some(index) => reply(StatusCode::OK, html, body(index.data), false),
        None => reply(
            StatusCode::OK,
            html,
            Bytes::from_static(NOT_BUILT.as_bytes()),
            false,
        ),
    }
}

/// An asset's bytes: embedded ones (a release build) are not copied per request.
fn body(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    }
}

fn reply(status: StatusCode, mime: &str, body: Bytes, immutable: bool) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(mime) {
        headers.insert(CONTENT_TYPE, mime);
    }
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    response
}

/// What `/` answers when the binary was built without the console.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>ClusterGenie</title></head><body style=\"font-family: system-ui; max-width: 40em; margin: 4em auto\">\
<h1>ClusterGenie</h1><p>The API is running under <a href=\"/v1/openapi.json\"><code>/v1</code></a>, \
but this binary was built without the console.</p><p>Build it, then the binary:</p>\
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build\ncargo build --release</pre>\
<p>The README's run command (<code>scripts/run.sh</code>) does both.</p></body></html>";
