//! Alerts into incidents, one delivery per unit of work. A delivery's alerts are read against
//! what runroom stored of them (one read), so a repeat changes nothing; the firing ones join
//! their group's open incident, or open one (past the source's limit per minute: its "alert
//! storm" incident); resolves, acknowledgements and flapping go on the timeline of the incident
//! the alert joined, and when every alert of an incident has resolved, the war rooms hear it
//! (and, if the source says so, the incident is resolved). The alert rows, the incidents, their
//! timeline, jobs and messages commit together, so a delivery answered 2xx is stored whole and
//! one that failed left nothing behind.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use tracing::Instrument as _;

use super::actions::Change;
use super::fanout::Fanout;
use super::fanout::Form;
use super::incident::{Actor, Event, Incident, Severity};
use super::playbook;
use super::reply;
use super::unit::{Committed, Unit};
use super::{Engine, EngineError};
use crate::alerts::SourceRules;
use crate::alerts::model::{Alert, AlertStatus};
use crate::alerts::routes::{self, Route};
use crate::i18n::{Lang, Msg};
use crate::store::{Flap, StoredAlert};
use crate::store::{MessageKind, Topic};

/// The group key of a source's alert storm incident (no format makes one like it).
pub const STORM_GROUP: &str = "runroom:storm";

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Intake {
    /// Alerts in the delivery.
    pub received: usize,
    /// Alerts whose state was new or changed (stored).
    pub changed: usize,
    /// Alerts whose state runroom already had (a repeat, a retry).
    pub duplicates: usize,
    /// Incidents the delivery opened (its storm incident included).
    pub opened: Vec<i64>,
    /// Incidents it changed or added to.
    pub touched: Vec<i64>,
    /// Alert groups that joined the storm incident instead of opening one.
    pub stormed: usize,
}

/// An incident the delivery changes, as loaded and as it will be stored.
struct Working {
    before: Incident,
    after: Incident,
    events: Vec<Event>,
}

impl Engine {
    /// Takes one delivery of `rules.id`'s alerts: what it did and the messages it queued. On
    /// `Err` nothing of it was stored: the sender's retry is handled afresh.
    pub async fn take_alerts(
        &self,
        rules: &SourceRules,
        alerts: &[Alert],
    ) -> Result<Committed<Intake>, EngineError> {
        if alerts.is_empty() {
            return Ok(Committed {
                value: Intake::default(),
                messages: Vec::new(),
            });
        }
        let span = tracing::info_span!("alerts", source = %rules.id, alerts = alerts.len());
        self.unguarded(|unit| Box::pin(self.take_alerts_in(unit, rules, alerts)))
            .instrument(span)
            .await
    }

    async fn take_alerts_in(
        &self,
        unit: &mut Unit<'_>,
        rules: &SourceRules,
        alerts: &[Alert],
    ) -> Result<Intake, EngineError> {
        self.keyed(unit, &rules.id).await?;
        self.take_alerts_with(unit, rules, alerts).await
    }

    /// Gives an unguarded unit's messages keys of their own: a delivery has no event id (a
    /// repeat is found by the alerts' states), so each unit makes one.
    pub(super) async fn keyed(&self, unit: &mut Unit<'_>, what: &str) -> Result<(), EngineError> {
        let now = unit.out.now();
        let languages: HashMap<String, Lang> =
            unit.tx.room_languages().await?.into_iter().collect();
        let key = format!(
            "alerts:{what}:{}:{:016x}",
            now.timestamp_millis(),
            fastrand::u64(..)
        );
        unit.out = Fanout::new(Some(&key), now, languages, self.i18n.clone());
        Ok(())
    }

    /// Takes alerts in a unit whose messages already have keys (a delivery's, or a job's).
    pub(super) async fn take_alerts_with(
        &self,
        unit: &mut Unit<'_>,
        rules: &SourceRules,
        alerts: &[Alert],
    ) -> Result<Intake, EngineError> {
        let now = unit.out.now();
        let actor = Actor {
            name: rules.id.clone(),
            room: format!("alerts:{}", rules.id),
        };
        let mut intake = Intake {
            received: alerts.len(),
            ..Intake::default()
        };

        // The last word on each alert in the delivery wins.
        let mut order: Vec<&str> = Vec::new();
        let mut latest: HashMap<&str, &Alert> = HashMap::new();
        for alert in alerts {
            if latest.insert(alert.key.as_str(), alert).is_none() {
                order.push(alert.key.as_str());
            } else {
                intake.duplicates += 1;
            }
        }
        let keys: Vec<String> = order.iter().map(|k| k.to_string()).collect();
        // Another replica taking the same source's alerts waits for this commit, then reads
        // what it stored.
        unit.tx.lock_source(&rules.id, now).await?;
        let mut stored: HashMap<String, StoredAlert> = unit
            .tx
            .alerts_of(&rules.id, &keys)
            .await?
            .into_iter()
            .map(|a| (a.key.clone(), a))
            .collect();

        let mut saves: Vec<StoredAlert> = Vec::new();
        // Firing alerts to place, by group (in the order groups first appear): their index in
        // `saves`, whether they fired again after resolving, and whether to say they flap.
        let mut joins: Vec<(String, Vec<Fired>)> = Vec::new();
        let mut resolves: Vec<(i64, usize)> = Vec::new();
        let mut acks: Vec<i64> = Vec::new();
        // Each saved alert's route, and the alerts that are only notices (no incident).
        let mut route_of: Vec<Option<&Route>> = Vec::new();
        let mut notices: Vec<usize> = Vec::new();
        for key in &order {
            let alert = latest[key];
            let group = alert.group_by(&rules.group_by);
            let previous = stored.remove(*key);
            if alert.acknowledge {
                if let Some(n) = previous.as_ref().and_then(|p| p.incident)
                    && previous
                        .as_ref()
                        .is_some_and(|p| p.status == AlertStatus::Firing)
                {
                    acks.push(n);
                }
                continue;
            }
            let refired = match &previous {
                Some(p) if p.status == alert.status => {
                    intake.duplicates += 1;
                    continue;
                }
                Some(p) => p.status == AlertStatus::Resolved,
                None => false,
            };
            let route = routes::route_for(&rules.routes, &alert.labels);
            let seen = previous.is_some();
            let mut row = refresh(previous, alert, &rules.id, &group, now);
            row.severity = route.map_or(row.severity, |r| r.severity(alert));
            if route.is_some_and(|r| r.notice) {
                // A resolve of an alert never seen firing has nothing to take back.
                if alert.status == AlertStatus::Firing || seen {
                    notices.push(saves.len());
                }
            } else if alert.status == AlertStatus::Firing {
                let fired = Fired {
                    index: saves.len(),
                    refired,
                    flapping: count_fire(&mut row.flap, rules, now),
                };
                match joins.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, members)) => members.push(fired),
                    None => joins.push((group, vec![fired])),
                }
            } else if let Some(n) = row.incident {
                resolves.push((n, saves.len()));
            }
            route_of.push(route);
            saves.push(row);
        }
        intake.changed = saves.len();

        // One read for the groups' incidents, one for the incidents the delivery touches.
        let mut group_keys: Vec<String> = joins.iter().map(|(g, _)| g.clone()).collect();
        group_keys.push(STORM_GROUP.to_string());
        let groups: HashMap<String, i64> = unit
            .tx
            .alert_groups(&rules.id, &group_keys)
            .await?
            .into_iter()
            .collect();
        let mut numbers: Vec<i64> = groups.values().copied().collect();
        numbers.extend(resolves.iter().map(|(n, _)| *n));
        numbers.extend(&acks);
        numbers.sort_unstable();
        numbers.dedup();
        let mut working: BTreeMap<i64, Working> = unit
            .tx
            .incidents(&numbers)
            .await?
            .into_iter()
            .map(|i| {
                (
                    i.number,
                    Working {
                        before: i.clone(),
                        after: i,
                        events: Vec::new(),
                    },
                )
            })
            .collect();
        let mut storm_incident = groups.get(STORM_GROUP).copied();
        let mut opened_lately: Option<i64> = None;

        for (group, members) in &joins {
            let route = route_of[members[0].index];
            let open_target = groups
                .get(group)
                .copied()
                .filter(|n| working.get(n).is_some_and(|w| w.after.is_open()));
            let target = match open_target {
                Some(n) => n,
                None => {
                    let opened = match opened_lately {
                        Some(n) => n,
                        None => {
                            let since = now - Duration::minutes(1);
                            unit.tx.incidents_opened_since(&rules.id, since).await?
                        }
                    };
                    let severity = members
                        .iter()
                        .map(|f| saves[f.index].severity)
                        .min()
                        .unwrap_or(Severity::Sev3);
                    if opened >= i64::from(rules.max_new_incidents_per_minute) {
                        opened_lately = Some(opened);
                        intake.stormed += 1;
                        let storm = storm_incident
                            .filter(|n| working.get(n).is_some_and(|w| w.after.is_open()));
                        let n = match storm {
                            Some(n) => {
                                raise(working.get_mut(&n), severity, now);
                                n
                            }
                            None => {
                                let title = self.storm_title(&rules.id);
                                let n = self
                                    .open_incident(
                                        unit,
                                        &actor,
                                        title,
                                        severity,
                                        None,
                                        &BTreeMap::new(),
                                        Vec::new(),
                                    )
                                    .await?;
                                unit.tx
                                    .set_alert_group(&rules.id, STORM_GROUP, n, None)
                                    .await?;
                                storm_incident = Some(n);
                                intake.opened.push(n);
                                load_new(unit, &mut working, n).await?;
                                n
                            }
                        };
                        unit.tx.set_alert_group(&rules.id, group, n, None).await?;
                        n
                    } else {
                        opened_lately = Some(opened + 1);
                        let title = saves[members[0].index].title.clone();
                        let events = members
                            .iter()
                            .flat_map(|f| fired_events(&saves[f.index], rules, f, false))
                            .collect();
                        let labels = saves[members[0].index].labels.clone();
                        let n = self
                            .open_incident(unit, &actor, title, severity, route, &labels, events)
                            .await?;
                        unit.tx
                            .set_alert_group(&rules.id, group, n, Some(now))
                            .await?;
                        intake.opened.push(n);
                        for f in members {
                            saves[f.index].incident = Some(n);
                        }
                        continue;
                    }
                }
            };
            // Joining an open incident: a re-fired alert is announced when the incident's
            // alerts had all cleared.
            let cleared = if members.iter().any(|f| f.refired) {
                !unit.tx.has_firing_alert(target).await?
            } else {
                false
            };
            for f in members {
                saves[f.index].incident = Some(target);
                let events = fired_events(&saves[f.index], rules, f, f.refired && cleared);
                if let Some(w) = working.get_mut(&target) {
                    w.events.extend(events);
                }
            }
        }

        unit.tx.save_alerts(&saves).await?;
        self.post_notices(unit, rules, &saves, &notices, &route_of);

        // Resolves, then whether each incident they touched has a firing alert left.
        // (incident, an alert of it flaps, it resolves when its alerts do)
        let mut cleared_checks: Vec<(i64, bool, bool)> = Vec::new();
        for (n, i) in &resolves {
            let alert = &saves[*i];
            let Some(w) = working.get_mut(n) else {
                continue;
            };
            w.events.push(Event::AlertResolved {
                source: rules.id.clone(),
                alert: alert.title.clone(),
            });
            let flapping = is_flapping(&alert.flap, rules, now);
            let auto = route_of[*i]
                .and_then(|r| r.auto_resolve)
                .unwrap_or(rules.auto_resolve);
            match cleared_checks.iter_mut().find(|(m, _, _)| m == n) {
                Some((_, quiet, _)) => *quiet |= flapping,
                None => cleared_checks.push((*n, flapping, auto)),
            }
        }
        for (n, quiet, auto) in cleared_checks {
            let open = working.get(&n).is_some_and(|w| w.after.is_open());
            if !open || unit.tx.has_firing_alert(n).await? {
                continue;
            }
            let Some(w) = working.get_mut(&n) else {
                continue;
            };
            w.events.push(Event::AlertsCleared {
                source: rules.id.clone(),
                quiet,
            });
            // A flapping alert would resolve and reopen incidents on every flap: the commander
            // decides then.
            if auto
                && !quiet
                && let Ok((after, events)) = w.after.resolve(None, now)
            {
                w.after = after;
                w.events.extend(events);
            }
        }
        for n in acks {
            let Some(w) = working.get_mut(&n) else {
                continue;
            };
            if let Ok((after, events)) = w.after.acknowledge(&actor, now) {
                w.after = after;
                w.events.extend(events);
            }
        }

        for (n, w) in working {
            if w.events.is_empty() {
                continue;
            }
            let mut after = w.after;
            after.updated_at = now;
            let change = Change {
                incident: after,
                events: w.events,
                is_new: false,
            };
            self.commit_change(unit, None, &actor, Some(&w.before), change)
                .await?;
            if !intake.opened.contains(&n) {
                intake.touched.push(n);
            }
        }
        Ok(intake)
    }

    /// Declares an incident for alerts (in the rooms and with the paging its route says, and
    /// the playbook its route names or its first alert's labels start), with their events
    /// after the declaration.
    #[allow(clippy::too_many_arguments)]
    async fn open_incident(
        &self,
        unit: &mut Unit<'_>,
        actor: &Actor,
        title: String,
        severity: Severity,
        route: Option<&Route>,
        labels: &BTreeMap<String, String>,
        more: Vec<Event>,
    ) -> Result<i64, EngineError> {
        let now = unit.out.now();
        let (mut incident, mut events) = Incident::declare(title, severity, None, actor, now);
        if let Some(route) = route {
            incident.rooms = route.rooms.clone();
            incident.no_paging = !route.page;
        }
        let named = route.and_then(|r| r.playbook.as_deref());
        if let Some(playbook) = playbook::for_alert(&self.policies, named, labels) {
            let overrides = if playbook.roles.is_empty() {
                Vec::new()
            } else {
                unit.tx.overrides(now).await?
            };
            let holders =
                playbook::holders(playbook, &self.policies, &self.reaches, &overrides, now);
            if let Ok((started, started_events)) = incident.run_playbook(playbook, &holders, now) {
                incident = started;
                events.extend(started_events);
            }
        }
        events.extend(more);
        let change = Change {
            incident,
            events,
            is_new: true,
        };
        Ok(self.commit_change(unit, None, actor, None, change).await?)
    }

    /// Alerts a route only posts as notices: said in the route's rooms, once per change.
    fn post_notices(
        &self,
        unit: &mut Unit<'_>,
        rules: &SourceRules,
        saves: &[StoredAlert],
        notices: &[usize],
        route_of: &[Option<&Route>],
    ) {
        unit.out.topic = Some(Topic::Update);
        for &i in notices {
            let (alert, Some(route)) = (&saves[i], route_of[i]) else {
                continue;
            };
            let msg = reply::alert_notice(&rules.id, alert);
            for room in self.rooms.iter().filter(|r| route.rooms.contains(&r.id)) {
                unit.out.push(
                    room,
                    MessageKind::Broadcast,
                    alert.severity.number(),
                    None,
                    &msg,
                    Form::Plain,
                );
            }
        }
        unit.out.topic = None;
    }

    /// The storm incident's title, in the first room's language (a title is stored once).
    fn storm_title(&self, source: &str) -> String {
        self.title_text(&Msg::new("alert-storm-title").text("source", source))
    }

    /// A title runroom writes itself, in the first room's language (a title is stored once).
    pub(super) fn title_text(&self, msg: &Msg) -> String {
        let lang = self.rooms.first().map_or(Lang::En, |r| r.language);
        self.i18n.render(lang, chrono_tz::UTC, msg)
    }
}

/// An alert's row after this delivery: what it was (flap counts, first seen) with what the
/// sender says now.
fn refresh(
    previous: Option<StoredAlert>,
    alert: &Alert,
    source: &str,
    group: &str,
    now: DateTime<Utc>,
) -> StoredAlert {
    let (first_seen, flap, incident) = match previous {
        Some(p) => (p.first_seen, p.flap, p.incident),
        None => (
            now,
            Flap {
                window_start: now.timestamp_millis(),
                ..Flap::default()
            },
            None,
        ),
    };
    StoredAlert {
        source: source.to_string(),
        key: alert.key.clone(),
        status: alert.status,
        group_key: group.to_string(),
        incident,
        title: alert.title.clone(),
        severity: alert.severity(),
        labels: alert.labels.clone(),
        links: alert.links.clone(),
        starts_at: alert.starts_at,
        ends_at: alert.ends_at,
        first_seen,
        changed_at: now,
        flap,
    }
}

/// A firing alert of the delivery, to place in an incident.
struct Fired {
    /// Its row in the delivery's saves.
    index: usize,
    /// It had resolved and fires again.
    refired: bool,
    /// It flaps, and this is the first time in its window that is said.
    flapping: bool,
}

/// Counts a fire in the alert's flapping window (a new window once the last one ended).
/// Returns whether the alert now flaps and nobody was told yet in this window (it is marked
/// told).
fn count_fire(flap: &mut Flap, rules: &SourceRules, now: DateTime<Utc>) -> bool {
    let now_ms = now.timestamp_millis();
    if now_ms - flap.window_start > window_ms(rules) {
        flap.window_start = now_ms;
        flap.window_fires = 0;
    }
    flap.fires += 1;
    flap.window_fires += 1;
    let say = is_flapping(flap, rules, now) && flap.said_at.is_none_or(|s| s < flap.window_start);
    if say {
        flap.said_at = Some(now_ms);
    }
    say
}

fn window_ms(rules: &SourceRules) -> i64 {
    i64::from(rules.flap_minutes) * 60_000
}

/// Whether an alert fired more than the threshold within its current window.
fn is_flapping(flap: &Flap, rules: &SourceRules, now: DateTime<Utc>) -> bool {
    flap.window_fires > i64::from(rules.flap_threshold)
        && now.timestamp_millis() - flap.window_start <= window_ms(rules)
}

/// The timeline events of a firing alert joining an incident: the fire (announced when `back`
/// and it is not flapping), and flapping once per window.
fn fired_events(alert: &StoredAlert, rules: &SourceRules, fired: &Fired, back: bool) -> Vec<Event> {
    let flapping = is_flapping(&alert.flap, rules, alert.changed_at);
    let mut events = vec![Event::AlertFired {
        source: rules.id.clone(),
        alert: alert.title.clone(),
        links: alert.links.clone(),
        back: back && !flapping,
    }];
    if fired.flapping {
        events.push(Event::AlertFlapping {
            source: rules.id.clone(),
            alert: alert.title.clone(),
            fires: u32::try_from(alert.flap.window_fires).unwrap_or(u32::MAX),
            minutes: rules.flap_minutes,
        });
    }
    events
}

/// Raises a storm incident's severity to the most severe group that joined it.
fn raise(working: Option<&mut Working>, severity: Severity, now: DateTime<Utc>) {
    if let Some(w) = working
        && severity < w.after.severity
        && let Ok((after, events)) = w.after.set_severity(severity, now)
    {
        w.after = after;
        w.events.extend(events);
    }
}

/// An incident this delivery opened, loaded so later groups of the delivery can join it.
async fn load_new(
    unit: &mut Unit<'_>,
    working: &mut BTreeMap<i64, Working>,
    n: i64,
) -> Result<(), EngineError> {
    if let Some(incident) = unit.tx.incident(n).await? {
        working.insert(
            n,
            Working {
                before: incident.clone(),
                after: incident,
                events: Vec::new(),
            },
        );
    }
    Ok(())
}
