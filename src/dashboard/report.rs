//! The report page: time to acknowledge and to resolve per severity over the last 30 or 90
//! days, as a chart drawn on the server (SVG, no script) and as the table it is drawn from.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use serde::Deserialize;

use super::pages::{Texts, html, unavailable};
use super::{Dashboard, Viewer};
use crate::engine::reply;
use crate::i18n::Msg;
use crate::postmortem::report::{self, Report};

/// The periods offered, in days; the first is the default.
const PERIODS: [i64; 2] = [30, 90];

/// The chart's geometry, in SVG user units: the label column, the bars' width, one bar's height
/// and the space under each severity's group.
const LABEL: f64 = 120.0;
const BARS: f64 = 400.0;
const BAR: f64 = 16.0;
const GAP: f64 = 14.0;

/// One severity's row of the table.
pub struct FiguresRow {
    pub severity: String,
    pub incidents: usize,
    pub ack_p50: String,
    pub ack_p90: String,
    pub resolve_p50: String,
    pub resolve_p90: String,
}

/// One bar of the chart.
pub struct Bar {
    pub y: f64,
    pub width: f64,
    /// `ack` or `resolve`, for its colour.
    pub class: &'static str,
    pub label: String,
}

/// One severity's group of bars.
pub struct Group {
    pub y: f64,
    pub severity: String,
    pub bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "dashboard/report.html")]
struct ReportPage<'a> {
    t: &'a Texts,
    role: String,
    csrf: &'a str,
    /// (days, label, current)
    periods: Vec<(i64, String, bool)>,
    heading: String,
    rows: Vec<FiguresRow>,
    groups: Vec<Group>,
    /// The chart's height and width.
    height: f64,
    width: f64,
    label_x: f64,
    bars_x: f64,
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    days: Option<String>,
}

pub async fn page(
    State(dash): State<Dashboard>,
    Viewer { session, texts }: Viewer,
    Query(query): Query<ReportQuery>,
) -> Response {
    let days = query
        .days
        .as_deref()
        .and_then(|d| d.trim().parse::<i64>().ok())
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(PERIODS[0]);
    let now = dash.engine.clock().now();
    let since = now - Duration::days(days);
    let incidents = match dash
        .engine
        .store()
        .declared_since(since, report::MAX_INCIDENTS)
        .await
    {
        Ok(incidents) => incidents,
        Err(error) => return unavailable("the report's incidents", error),
    };
    let figures = report::report(&incidents, since, now);
    let groups = chart(&texts, &figures);
    let page = ReportPage {
        t: &texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        periods: PERIODS
            .iter()
            .map(|d| {
                let label = texts.render(&Msg::new("dashboard-report-days").number("days", *d));
                (*d, label, *d == days)
            })
            .collect(),
        heading: texts.render(&Msg::new("dashboard-report-heading").number("days", days)),
        rows: figures
            .severities
            .iter()
            .map(|s| FiguresRow {
                severity: texts.render(&reply::severity(s.severity)),
                incidents: s.incidents,
                ack_p50: took(&texts, s.ack_p50_seconds),
                ack_p90: took(&texts, s.ack_p90_seconds),
                resolve_p50: took(&texts, s.resolve_p50_seconds),
                resolve_p90: took(&texts, s.resolve_p90_seconds),
            })
            .collect(),
        height: groups.len() as f64 * (2.0 * BAR + GAP),
        width: LABEL + BARS + 160.0,
        label_x: LABEL - 8.0,
        bars_x: LABEL,
        groups,
    };
    html(StatusCode::OK, page.render())
}

fn took(texts: &Texts, seconds: Option<i64>) -> String {
    match seconds {
        Some(s) => texts.render(&reply::duration(Duration::seconds(s).num_minutes())),
        None => "—".to_string(),
    }
}

/// Two bars per severity, the median time to acknowledge and to resolve, on one scale (the
/// longest median), each labelled with its time.
fn chart(texts: &Texts, report: &Report) -> Vec<Group> {
    let longest = report
        .severities
        .iter()
        .flat_map(|s| [s.ack_p50_seconds, s.resolve_p50_seconds])
        .flatten()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    report
        .severities
        .iter()
        .enumerate()
        .map(|(at, s)| {
            let y = at as f64 * (2.0 * BAR + GAP);
            let bar = |row: f64, class: &'static str, seconds: Option<i64>, id: &'static str| Bar {
                y: y + row * BAR,
                width: seconds.map_or(0.0, |s| (s as f64 / longest * BARS).max(1.0)),
                class,
                label: texts.render(&Msg::new(id).text("time", took(texts, seconds))),
            };
            Group {
                y: y + BAR,
                severity: texts.render(&reply::severity(s.severity)),
                bars: vec![
                    bar(0.0, "ack", s.ack_p50_seconds, "dashboard-report-ack-bar"),
                    bar(
                        1.0,
                        "resolve",
                        s.resolve_p50_seconds,
                        "dashboard-report-resolve-bar",
                    ),
                ],
            }
        })
        .collect()
}
