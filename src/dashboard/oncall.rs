//! The on-call page: who holds each rotation now and in the next shift (overrides marked), the
//! overrides running or to come, and the next handoffs and schedules, in the viewer's zone.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::pages::{Texts, html, unavailable};
use super::{Dashboard, Viewer};
use crate::engine::oncall::{Holder, display, holders_at};
use crate::engine::policy::Policies;
use crate::engine::reply;
use crate::postmortem::document::shown;

/// One role of a rotation: who holds it now and who next.
pub struct RoleRow {
    pub role: String,
    pub now: String,
    /// "override by @ana until 18:00", when an override put them there.
    pub now_override: Option<String>,
    pub next: String,
    pub next_override: Option<String>,
}

/// A rotation as the page shows it.
pub struct RotationView {
    pub id: String,
    /// The next handoff, in the viewer's zone.
    pub handoff: String,
    pub handoff_iso: String,
    pub roles: Vec<RoleRow>,
}

/// An override running or to come.
pub struct OverrideView {
    pub rotation: String,
    pub person: String,
    pub from: String,
    pub until: String,
    pub by: String,
}

/// A schedule and when it runs next.
pub struct ScheduleView {
    pub id: String,
    pub title: String,
    pub next: String,
    pub rooms: String,
}

#[derive(Template)]
#[template(path = "dashboard/oncall.html")]
struct OncallPage<'a> {
    t: &'a Texts,
    role: String,
    csrf: &'a str,
    rotations: Vec<RotationView>,
    overrides: Vec<OverrideView>,
    schedules: Vec<ScheduleView>,
}

pub async fn page(State(dash): State<Dashboard>, Viewer { session, texts }: Viewer) -> Response {
    let now = dash.engine.clock().now();
    let overrides = match read_overrides(&dash, now).await {
        Ok(overrides) => overrides,
        Err(error) => return unavailable("the on-call overrides", error),
    };
    let policies = dash.engine.policies();
    let page = OncallPage {
        t: &texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        rotations: policies
            .rotations
            .iter()
            .map(|rotation| {
                let (shift, holders) = holders_at(rotation, &overrides, now);
                let (_, next) = holders_at(rotation, &overrides, shift.ends);
                RotationView {
                    id: rotation.id.clone(),
                    handoff: texts.time(shift.ends),
                    handoff_iso: shift.ends.to_rfc3339(),
                    roles: holders
                        .iter()
                        .map(|holder| {
                            let after = next.iter().find(|h| h.role == holder.role);
                            RoleRow {
                                role: texts.render(&reply::role(&holder.role)),
                                now: name(policies, holder),
                                now_override: marked(&texts, holder),
                                next: after.map(|h| name(policies, h)).unwrap_or_default(),
                                next_override: after.and_then(|h| marked(&texts, h)),
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
        overrides: overrides
            .iter()
            .map(|o| OverrideView {
                rotation: o.rotation.clone(),
                person: shown(&display(policies, &o.person)),
                from: texts.time(o.starts_at),
                until: texts.time(o.ends_at),
                by: shown(&o.set_by),
            })
            .collect(),
        schedules: policies
            .schedules
            .iter()
            .map(|s| ScheduleView {
                id: s.id.clone(),
                title: s.title.clone(),
                next: s
                    .next_after(now)
                    .map(|at| texts.time(at))
                    .unwrap_or_else(|| "—".to_string()),
                rooms: s.rooms.join(", "),
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

async fn read_overrides(
    dash: &Dashboard,
    now: DateTime<Utc>,
) -> Result<Vec<crate::store::OncallOverride>, crate::store::StoreError> {
    let mut tx = dash.engine.store().begin_read().await?;
    tx.overrides(now).await
}

fn name(policies: &Policies, holder: &Holder) -> String {
    shown(&display(policies, &holder.person))
}

fn marked(texts: &Texts, holder: &Holder) -> Option<String> {
    holder.by_override.as_ref().map(|o| {
        texts.render(
            &crate::i18n::Msg::new("dashboard-oncall-override")
                .text("person", shown(&o.set_by))
                .time("until", o.ends_at),
        )
    })
}
