//! The OpenAPI 3.1 document of the API, generated from the handlers'
//! annotations by utoipa and served at `/api/v1/openapi.json`.

use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::ApiJson;
use super::{
    audio, calls, checkpoints, drills, health, heatmaps, jobs, me, overrides, permissions, records,
    reviews, rules, scenarios, training, AppState,
};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "callcoach API", version = "1",
        description = "Sales coaching: transcription jobs, scenarios, scored drills, \
            consented calls, heatmaps, monthly reviews, training tasks and permissions. Every error body \
            is {\"error\": code, \"detail\": text}."),
    paths(
        health::healthz,
        health::readyz,
        jobs::create_transcription,
        jobs::transcription,
        scenarios::list_scenarios,
        scenarios::scenario,
        scenarios::search,
        drills::today,
        drills::create_attempt,
        drills::attempt,
        calls::create_call,
        calls::call,
        overrides::add_override,
        overrides::history,
        heatmaps::team_heatmap,
        training::list_tasks,
        training::assign_task,
        training::close_task,
        training::remeasure_task,
        rules::current_rules,
        rules::reload_rules,
        permissions::permissions,
        permissions::change_permission,
        checkpoints::statuses,
        checkpoints::evaluate,
        reviews::monthly_review,
        audio::scenario_audio,
        audio::attempt_audio,
        audio::call_audio,
        me::me,
        records::team_records,
    ),
    components(schemas(super::ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme that the paths refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Returns the route of the document.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

async fn openapi_json() -> ApiJson<utoipa::openapi::OpenApi> {
    ApiJson(ApiDoc::openapi())
}
