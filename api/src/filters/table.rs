//! The route table: every route's method and path template, recorded as the router is
//! built. A route file asks [`RouteTable`] for the filter that matches its path and method
//! (`at0`, `at1`, `at2`: by the number of `{param}` segments the template has), so the
//! table lists exactly what the router serves, in the path syntax of the OpenAPI document
//! (`/v1/clusters/{id}`). The test that compares the router with the document reads it.

use std::fmt;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::Filter;

/// One route: a method and a path template such as `/v1/clusters/{id}/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The routes recorded so far.
#[derive(Debug, Clone, Default)]
pub struct RouteTable(Vec<Route>);

impl RouteTable {
    /// Every recorded route, in the order the router tries them.
    pub fn routes(&self) -> &[Route] {
        &self.0
    }

    /// Matches `method` on `path`, a template without parameters.
    pub fn at0(&mut self, method: Method, path: &'static str) -> BoxedFilter<()> {
        self.record(method, path, 0)
            .map(|_: Vec<String>| ())
            .untuple_one()
            .boxed()
    }

    /// Matches `method` on `path`, a template with one `{param}`: extracts its segment.
    pub fn at1(&mut self, method: Method, path: &'static str) -> BoxedFilter<(String,)> {
        self.record(method, path, 1)
            .map(|params: Vec<String>| params.into_iter().next().unwrap_or_default())
            .boxed()
    }

    /// Matches `method` on `path`, a template with two `{param}`s: extracts their segments.
    pub fn at2(&mut self, method: Method, path: &'static str) -> BoxedFilter<(String, String)> {
        self.record(method, path, 2)
            .map(|params: Vec<String>| {
                let mut params = params.into_iter();
                let first = params.next().unwrap_or_default();
                (first, params.next().unwrap_or_default())
            })
            .untuple_one()
            .boxed()
    }

    /// Records the route and builds its filter: the path (yielding its parameters), then
    /// the method, so that a known path with another method is a `405`.
    fn record(
        &mut self,
        method: Method,
        path: &'static str,
        params: usize,
    ) -> BoxedFilter<(Vec<String>,)> {
        assert_eq!(
            segments(path).filter(|s| is_param(s)).count(),
            params,
            "route template {path} has another number of parameters"
        );
        self.0.push(Route {
            method: method.clone(),
            path,
        });
        path_filter(path).and(method_filter(&method)).boxed()
    }
}

fn segments(path: &'static str) -> impl Iterator<Item = &'static str> {
    path.trim_start_matches('/').split('/')
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The segments of `path` one by one (as `warp::path!` would), then the end of the path.
fn path_filter(path: &'static str) -> BoxedFilter<(Vec<String>,)> {
    let mut filter = warp::any().map(Vec::<String>::new).boxed();
    for segment in segments(path) {
        filter = if is_param(segment) {
            filter
                .and(warp::path::param::<String>())
                .map(|mut params: Vec<String>, param| {
                    params.push(param);
                    params
                })
                .boxed()
        } else {
            filter.and(warp::path(segment)).boxed()
        };
    }
    filter.and(warp::path::end()).boxed()
}

/// The method filter (its rejection is the one `recover` answers `405` with).
fn method_filter(method: &Method) -> BoxedFilter<()> {
    match *method {
        Method::GET => warp::get().boxed(),
        Method::POST => warp::post().boxed(),
        Method::PUT => warp::put().boxed(),
        Method::PATCH => warp::patch().boxed(),
        Method::DELETE => warp::delete().boxed(),
        Method::HEAD => warp::head().boxed(),
        Method::OPTIONS => warp::options().boxed(),
        _ => panic!("no route uses the method {method}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_keeps_what_was_asked_for() {
        let mut table = RouteTable::default();
        let _ = table.at2(Method::GET, "/v1/streams/{type}/{id}");
        let _ = table.at0(Method::POST, "/v1/clusters");
        let routes: Vec<String> = table.routes().iter().map(ToString::to_string).collect();
        assert_eq!(routes, ["GET /v1/streams/{type}/{id}", "POST /v1/clusters"]);
    }

    #[test]
    #[should_panic(expected = "another number of parameters")]
    fn a_template_must_have_as_many_parameters_as_the_route_extracts() {
        let _ = RouteTable::default().at1(Method::GET, "/v1/clusters");
    }
}
