//! The web pages: files of the web directory (`web/` by default) served at
//! `/`, `/drill`, `/coach` and `/manager`, and every file under `/web/`.
//!
//! Pages call the JSON API with the user's bearer token. A page that does
//! not exist yet returns 404 in the JSON error shape.

use std::path::Path;

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

use super::AppState;

/// Page routes and the file each one serves, relative to the web directory.
pub const PAGES: [(&str, &str); 4] = [
    ("/", "index.html"),
    ("/drill", "drill.html"),
    ("/coach", "coach.html"),
    ("/manager", "manager.html"),
];

/// Returns the routes of the pages and static files under `web_dir`.
pub fn router(web_dir: &Path) -> Router<AppState> {
    let mut router = Router::new().nest_service("/web", ServeDir::new(web_dir));
    for (route, file) in PAGES {
        router = router.route_service(route, ServeFile::new(web_dir.join(file)));
    }
    router
}
