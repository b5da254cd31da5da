//! Incidents and their timeline: reads from the pool, and the changes one decision makes (numbered
//! from the `counters` row). `incident_sql!` stamps the statements onto each backend's types.
//!
//! What a command reads inside its transaction is bounded: a page of open incidents in rank order
//! (most severe, then oldest) from a partial index, totals from the `open_counts` row per severity
//! (kept by triggers), the holders of roles from `incident_roles`. No decision reads every open
//! incident; the operator's views (the command line, the admin API) read them a page at a time
//! ([`IncidentStore::open_incidents_page`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::engine::incident::{Event, Incident, IncidentLine, Severity, Status, TimelineEntry};

pub use crate::engine::incident::person_key;

/// Which open incidents a page or a count is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenFilter {
    pub severity: Option<Severity>,
    /// Only incidents on which this person (as [`person_key`] gives it) holds a role.
    pub person: Option<String>,
}

/// Which incidents the dashboard's list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentSearch {
    pub status: StatusFilter,
    pub severity: Option<Severity>,
    /// Words in the title (any case), or an incident's number (`42`, `INC-42`).
    pub text: Option<String>,
}

/// Incidents by status: open (any status but resolved), one status, or all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    Open,
    Only(Status),
    Any,
}

/// The first items of a longer list, and how long the whole list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> Bounded<T> {
    /// How many were left out.
    pub fn more(&self) -> i64 {
        (self.total - self.items.len() as i64).max(0)
    }
}

impl<T> Default for Bounded<T> {
    fn default() -> Self {
        Bounded {
            items: Vec::new(),
            total: 0,
        }
    }
}

/// What a handoff summary reads: each part the first `limit` items and its total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandoffIncidents {
    /// Open now, in rank order (most severe, then oldest).
    pub active: Bounded<Incident>,
    /// Declared in the shift, in order.
    pub declared: Bounded<Incident>,
    /// Resolved in the shift, in order.
    pub resolved: Bounded<Incident>,
}

/// Incident reads outside a decision.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    async fn incident(&self, number: i64) -> StoreResult<Option<Incident>>;
    /// Every open incident, in number order: for tests and checks on small databases; the
    /// operator's views read [`IncidentStore::open_incidents_page`].
    async fn open_incidents(&self) -> StoreResult<Vec<Incident>>;
    /// `limit` open incidents in rank order (most severe, then oldest) after skipping `offset`,
    /// with how many are open: a page of the operator's views (the command line, the admin API).
    async fn open_incidents_page(&self, offset: i64, limit: i64) -> StoreResult<Bounded<Incident>>;
    /// A page of the dashboard's list: the incidents matching `search`, open ones first (most
    /// severe, then oldest), then resolved ones (latest resolved first), `limit` after skipping
    /// `offset`, with how many match.
    async fn search_incidents(
        &self,
        search: &IncidentSearch,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Bounded<Incident>>;
    /// Every incident, newest first, at most `limit`.
    async fn recent_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>>;
    /// The latest `limit` entries, oldest first.
    async fn timeline(&self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>>;
    /// Resolved incidents declared at or after `since` whose postmortem is due by `by` and is
    /// neither written nor skipped: the `limit` due soonest, and how many there are.
    async fn postmortems_due(
        &self,
        since: DateTime<Utc>,
        by: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Bounded<Incident>>;
    /// The incidents declared at or after `since`, oldest first, at most `limit`, each with how
    /// many updates it had: what a report over a period reads.
    async fn declared_since(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(Incident, i64)>>;
}

/// Incidents inside one decision's transaction.
#[async_trait]
pub trait IncidentTx: Send {
    /// Loads an incident for change (row-locked on Postgres).
    async fn incident(&mut self, number: i64) -> StoreResult<Option<Incident>>;
    /// A page of `list`: how many open incidents match `filter`, and the lines of `limit` of them
    /// in rank order (most severe, then oldest) after skipping `offset`, in one read. The page's
    /// numbers come from an index range, however many are open, and its lines from the rows'
    /// columns; a page past the end reads none.
    async fn open_listing(
        &mut self,
        filter: &OpenFilter,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Bounded<IncidentLine>>;
    /// How many open incidents match `filter`: a row per severity (`open_counts`), or the
    /// person's own role rows.
    async fn open_count(&mut self, filter: &OpenFilter) -> StoreResult<i64>;
    /// The numbers of the first `limit` open incidents in rank order (an implicit reference
    /// reads two: one means that one, two means "which?").
    async fn open_numbers(&mut self, limit: i64) -> StoreResult<Vec<i64>>;
    /// The open incident with the highest number.
    async fn newest_open(&mut self) -> StoreResult<Option<i64>>;
    async fn timeline(&mut self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>>;
    /// How many entries an incident's timeline has (an index range of that incident only).
    async fn timeline_len(&mut self, number: i64) -> StoreResult<i64>;
    /// Stores a new incident under the next number (`INC-n`) and returns that number.
    async fn insert_incident(&mut self, incident: &Incident) -> StoreResult<i64>;
    /// Stores a change to an incident loaded as `before` in this transaction: its role rows are
    /// rewritten only when who holds a role, its severity or whether it is open changed (always
    /// when `before` is not known).
    async fn update_incident(
        &mut self,
        incident: &Incident,
        before: Option<&Incident>,
    ) -> StoreResult<()>;
    /// [`IncidentTx::update_incident`] for several incidents (`(incident, before)`), their rows
    /// in one statement per chunk.
    async fn update_incidents(&mut self, changes: &[(Incident, Incident)]) -> StoreResult<()>;
    /// Loads the incidents of one claim for change (row-locked on Postgres, in number order);
    /// those that do not exist are left out.
    async fn incidents(&mut self, numbers: &[i64]) -> StoreResult<Vec<Incident>>;
    async fn append_timeline(&mut self, entries: &[TimelineEntry]) -> StoreResult<()>;
    /// The handoff summary's incidents for the shift `[from, to)`: open ones, declared and
    /// resolved ones, at most `limit` of each with their totals.
    async fn handoff_incidents(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<HandoffIncidents>;
}

/// Rows written or read per statement: a handful of bound values a row stays far below either
/// backend's limit on parameters.
pub const ROWS_CHUNK: usize = 500;

/// The pending postmortems due by `$1` of incidents declared from `$2`, soonest first, `$3` of
/// them: the range `[$2, $1]` of the partial index `incidents_postmortem_due`. A postmortem
/// falls due after its incident was declared, so bounding the due time below by `$2` leaves
/// nothing out, and keeps the pending ones nobody ever recorded, long past, out of the walk.
pub const POSTMORTEMS_DUE_SQL: &str = "SELECT state FROM incidents WHERE postmortem_due_at IS NOT NULL \
     AND postmortem_due_at >= $2 AND postmortem_due_at <= $1 AND declared_at >= $2 \
     ORDER BY postmortem_due_at, declared_at, number LIMIT $3";
/// How many [`POSTMORTEMS_DUE_SQL`] would read without its limit (the same index range).
pub const POSTMORTEMS_DUE_COUNT_SQL: &str = "SELECT COUNT(*) FROM incidents WHERE postmortem_due_at IS NOT NULL \
     AND postmortem_due_at >= $2 AND postmortem_due_at <= $1 AND declared_at >= $2";

/// What an incident row's upsert changes when the number exists.
pub const UPSERT_INCIDENT: &str = " ON CONFLICT (number) DO UPDATE SET title = excluded.title, \
     severity = excluded.severity, status = excluded.status, updated_at = excluded.updated_at, \
     resolved_at = excluded.resolved_at, state = excluded.state, \
     postmortem_due_at = excluded.postmortem_due_at";

/// Whether `incident_roles` must be rewritten: it holds the role holders of an open incident,
/// with the severity and declaration time its indexes sort by.
pub(super) fn roles_differ(incident: &Incident, before: &Incident) -> bool {
    incident.roles != before.roles
        || incident.severity != before.severity
        || incident.declared_at != before.declared_at
        || incident.is_open() != before.is_open()
}

pub(super) fn decode_incident(state: &str) -> StoreResult<Incident> {
    serde_json::from_str(state).map_err(|e| StoreError::Corrupt(format!("incident state: {e}")))
}

pub(super) fn decode_entry(row: (i64, i64, String, String, String)) -> StoreResult<TimelineEntry> {
    let (incident, at, actor, room, detail) = row;
    let event: Event =
        serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(format!("timeline: {e}")))?;
    Ok(TimelineEntry {
        incident,
        at: super::sql::from_millis(at)?,
        actor,
        room,
        event,
    })
}

/// Implements [`IncidentStore`] and [`IncidentTx`] for one backend's store and transaction types.
/// `$lock` is appended to the read of an incident that is about to change (`FOR UPDATE` on
/// Postgres; SQLite's writer already holds the database lock).
macro_rules! incident_sql {
    ($Store:ident, $Tx:ident, $Db:ty, lock = $lock:literal, lines = $lines:literal) => {
        mod incident_sql {
            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::engine::incident::{person_key, Incident, IncidentLine, Severity, Status, TimelineEntry};
            use $crate::store::incidents::{
                decode_entry, decode_incident, roles_differ, Bounded, HandoffIncidents, IncidentSearch, IncidentStore,
                IncidentTx, OpenFilter, StatusFilter, POSTMORTEMS_DUE_COUNT_SQL, POSTMORTEMS_DUE_SQL, ROWS_CHUNK,
                UPSERT_INCIDENT,
            };
            use $crate::store::sql;
            use $crate::store::{StoreError, StoreResult};

            async fn load_incident<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                number: i64,
                lock: bool,
            ) -> StoreResult<Option<Incident>> {
                let sql = if lock {
                    concat!("SELECT state FROM incidents WHERE number = $1", $lock)
                } else {
                    "SELECT state FROM incidents WHERE number = $1"
                };
                let row: Option<(String,)> = sqlx::query_as(sql).bind(number).fetch_optional(ex).await?;
                row.map(|(state,)| decode_incident(&state)).transpose()
            }

            async fn load_open<'e>(ex: impl sqlx::Executor<'e, Database = $Db>) -> StoreResult<Vec<Incident>> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT state FROM incidents WHERE status <> 'resolved' ORDER BY number")
                        .fetch_all(ex)
                        .await?;
                rows.iter().map(|(s,)| decode_incident(s)).collect()
            }

            async fn load_timeline<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                number: i64,
                limit: i64,
            ) -> StoreResult<Vec<TimelineEntry>> {
                let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
                    "SELECT incident, at, actor, room, detail FROM timeline WHERE incident = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(number)
                .bind(limit)
                .fetch_all(ex)
                .await?;
                rows.into_iter().rev().map(decode_entry).collect()
            }

            async fn states<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                sql: &'static str,
                binds: &[i64],
                text: Option<&str>,
            ) -> StoreResult<Vec<Incident>> {
                let mut query = sqlx::query_as::<_, (String,)>(sql);
                for b in binds {
                    query = query.bind(*b);
                }
                if let Some(t) = text {
                    query = query.bind(t.to_string());
                }
                let rows = query.fetch_all(ex).await?;
                rows.iter().map(|(s,)| decode_incident(s)).collect()
            }

            /// `select` with the conditions of a dashboard search.
            fn searched(search: &IncidentSearch, select: &str) -> sqlx::QueryBuilder<$Db> {
                let mut query = sqlx::QueryBuilder::new(select);
                query.push(" WHERE 1 = 1");
                match search.status {
                    StatusFilter::Open => {
                        query.push(" AND status <> 'resolved'");
                    }
                    StatusFilter::Only(Status::Resolved) => {
                        // Resolved is having a resolve time (a reopening clears it): said so,
                        // the resolve-time index serves the filter and the order, where the
                        // status index would leave every resolved row to sort.
                        query.push(" AND resolved_at IS NOT NULL");
                    }
                    StatusFilter::Only(status) => {
                        query.push(" AND status = ").push_bind(status.as_str());
                    }
                    StatusFilter::Any => {}
                }
                if let Some(severity) = search.severity {
                    query.push(" AND severity = ").push_bind(severity.number());
                }
                if let Some(text) = search.text.as_deref() {
                    // LIKE's own characters are taken literally; LOWER on both sides, so
                    // SQLite's ASCII-only case folding and Postgres's agree on ASCII titles.
                    let escaped = text
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    query
                        .push(" AND (LOWER(title) LIKE ")
                        .push_bind(format!("%{escaped}%"))
                        .push(" ESCAPE '\\'");
                    let word = text.trim();
                    let number = word.parse::<i64>().ok().or_else(|| $crate::engine::command::parse_incident_ref(word));
                    if let Some(number) = number {
                        query.push(" OR number = ").push_bind(number);
                    }
                    query.push(")");
                }
                query
            }

            /// Whole states of `limit` open incidents in rank order after skipping `offset`: the
            /// numbers from the rank index, then only those rows.
            async fn ranked_open<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                offset: i64,
                limit: i64,
            ) -> StoreResult<Vec<Incident>> {
                states(
                    ex,
                    "SELECT state FROM incidents WHERE number IN (SELECT number FROM incidents WHERE status <> 'resolved' \
                     ORDER BY severity, declared_at, number LIMIT $1 OFFSET $2) \
                     ORDER BY severity, declared_at, number",
                    &[limit, offset],
                    None,
                )
                .await
            }

            /// `list`'s page with its total, in one statement and one row: the total (a counts row,
            /// or the person's role rows) and the page's lines read along the rank index.
            async fn open_listing(
                tx: &mut $Tx,
                filter: &OpenFilter,
                offset: i64,
                limit: i64,
            ) -> StoreResult<Bounded<IncidentLine>> {
                // (the total; the rows the page is read from; which of them; their rank)
                let (total, from, which, rank) = match (filter.severity, &filter.person) {
                    (None, None) => (
                        "SELECT CAST(COALESCE(SUM(open), 0) AS BIGINT) AS total FROM open_counts",
                        "incidents i",
                        "i.status <> 'resolved'",
                        "i.severity, i.declared_at, i.number",
                    ),
                    (Some(_), None) => (
                        "SELECT CAST(COALESCE(SUM(open), 0) AS BIGINT) AS total FROM open_counts WHERE severity = $3",
                        "incidents i",
                        "i.status <> 'resolved' AND i.severity = $3",
                        "i.severity, i.declared_at, i.number",
                    ),
                    (None, Some(_)) => (
                        "SELECT COUNT(*) AS total FROM incident_roles WHERE person = $4",
                        "incident_roles r JOIN incidents i ON i.number = r.number",
                        "r.person = $4",
                        "r.severity, r.declared_at, r.number",
                    ),
                    (Some(_), Some(_)) => (
                        "SELECT COUNT(*) AS total FROM incident_roles WHERE severity = $3 AND person = $4",
                        "incident_roles r JOIN incidents i ON i.number = r.number",
                        "r.severity = $3 AND r.person = $4",
                        "r.severity, r.declared_at, r.number",
                    ),
                };
                // The page walks the rank index in its order and stops at the limit; a page past
                // the end has a limit of 0, so no index is walked for it. Its lines come back as
                // one JSON array beside the total: one row to hand over rather than one per line,
                // which is what a page cost on SQLite, whose rows each cross from its
                // connection's thread.
                let sql = format!(
                    "WITH counted AS ({total}) \
                     SELECT counted.total, (SELECT CAST({lines} AS TEXT) FROM ( \
                         SELECT i.number, i.title, i.severity, i.status, i.declared_at FROM {from} \
                         WHERE {which} ORDER BY {rank} \
                         LIMIT CASE WHEN $2 < (SELECT total FROM counted) THEN $1 ELSE 0 END OFFSET $2) page) \
                     FROM counted",
                    lines = $lines,
                );
                let mut query = sqlx::query_as::<_, (i64, Option<String>)>(sqlx::AssertSqlSafe(sql))
                    .bind(limit)
                    .bind(offset)
                    .bind(filter.severity.map_or(0, |s| s.number()));
                if let Some(person) = &filter.person {
                    query = query.bind(person.clone());
                }
                let (total, lines) = query.fetch_one(tx.0.get().await?).await?;
                let lines: Vec<(i64, String, i64, String, i64)> = match lines {
                    Some(json) => serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("list page: {e}")))?,
                    None => Vec::new(),
                };
                let mut items = lines
                    .into_iter()
                    .map(|(number, title, severity, status, declared_at)| {
                        Ok(IncidentLine {
                            number,
                            title,
                            severity: Severity::from_number(severity)
                                .ok_or_else(|| StoreError::Corrupt(format!("severity {severity}")))?,
                            status: Status::from_str_opt(&status)
                                .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
                            declared_at: sql::from_millis(declared_at)?,
                        })
                    })
                    .collect::<StoreResult<Vec<IncidentLine>>>()?;
                // An aggregate keeps no order that either backend promises.
                items.sort_by_key(|line| (line.severity, line.declared_at, line.number));
                Ok(Bounded { items, total })
            }

            async fn count<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                sql: &'static str,
                number: Option<i64>,
                text: Option<&str>,
            ) -> StoreResult<i64> {
                let mut query = sqlx::query_as::<_, (i64,)>(sql);
                if let Some(n) = number {
                    query = query.bind(n);
                }
                if let Some(t) = text {
                    query = query.bind(t.to_string());
                }
                Ok(query.fetch_optional(ex).await?.map_or(0, |(n,)| n))
            }

            async fn open_count(tx: &mut $Tx, filter: &OpenFilter) -> StoreResult<i64> {
                let ex = tx.0.get().await?;
                match (filter.severity, &filter.person) {
                    (None, None) => {
                        count(ex, "SELECT CAST(COALESCE(SUM(open), 0) AS BIGINT) FROM open_counts", None, None).await
                    }
                    (Some(sev), None) => {
                        count(ex, "SELECT open FROM open_counts WHERE severity = $1", Some(sev.number()), None).await
                    }
                    (None, Some(person)) => {
                        count(ex, "SELECT COUNT(*) FROM incident_roles WHERE person = $1", None, Some(person)).await
                    }
                    (Some(sev), Some(person)) => {
                        count(
                            ex,
                            "SELECT COUNT(*) FROM incident_roles WHERE severity = $1 AND person = $2",
                            Some(sev.number()),
                            Some(person),
                        )
                        .await
                    }
                }
            }

            /// Keeps `incident_roles` in step with the incident: its holders while it is open,
            /// nothing once it is resolved.
            async fn write_roles(tx: &mut $Tx, incident: &Incident, fresh: bool) -> StoreResult<()> {
                if !fresh {
                    let number = incident.number;
                    tx.0.write(|delete| {
                        delete.push("DELETE FROM incident_roles WHERE number = ");
                        delete.push_bind(number);
                    })
                    .await?;
                }
                if !incident.is_open() {
                    return Ok(());
                }
                let mut people: Vec<String> = incident.roles.values().map(|p| person_key(p)).collect();
                people.sort();
                people.dedup();
                if people.is_empty() {
                    return Ok(());
                }
                tx.0.write(|insert| {
                    insert.push("INSERT INTO incident_roles (person, number, severity, declared_at) ");
                    insert.push_values(people, |mut row, person| {
                        row.push_bind(person)
                            .push_bind(incident.number)
                            .push_bind(incident.severity.number())
                            .push_bind(sql::millis(incident.declared_at));
                    });
                    insert.push(" ON CONFLICT (person, number) DO NOTHING");
                })
                .await
            }

            async fn range_count(tx: &mut $Tx, sql: &'static str, range: [i64; 2]) -> StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(range[0])
                    .bind(range[1])
                    .fetch_one(tx.0.get().await?)
                    .await?;
                Ok(n)
            }

            /// Writes incidents' rows (insert or update) as gathered writes, one statement per
            /// chunk.
            async fn write_incidents(tx: &mut $Tx, incidents: &[&Incident]) -> StoreResult<()> {
                for chunk in incidents.chunks(ROWS_CHUNK) {
                    let states = chunk
                        .iter()
                        .map(|incident| sql::encode(incident))
                        .collect::<StoreResult<Vec<String>>>()?;
                    tx.0.write(|upsert| {
                        upsert.push(
                            "INSERT INTO incidents (number, title, severity, status, declared_at, updated_at, resolved_at, state, postmortem_due_at) ",
                        );
                        upsert.push_values(chunk.iter().zip(states), |mut row, (incident, state)| {
                            row.push_bind(incident.number)
                                .push_bind(incident.title.clone())
                                .push_bind(incident.severity.number())
                                .push_bind(incident.status.as_str())
                                .push_bind(sql::millis(incident.declared_at))
                                .push_bind(sql::millis(incident.updated_at))
                                .push_bind(incident.resolved_at.map(sql::millis))
                                .push_bind(state)
                                .push_bind(incident.postmortem_pending().map(sql::millis));
                        });
                        upsert.push(UPSERT_INCIDENT);
                    })
                    .await?;
                }
                Ok(())
            }

            #[async_trait::async_trait]
            impl IncidentStore for $Store {
                async fn incident(&self, number: i64) -> StoreResult<Option<Incident>> {
                    load_incident(&self.pool, number, false).await
                }

                async fn open_incidents(&self) -> StoreResult<Vec<Incident>> {
                    load_open(&self.pool).await
                }

                async fn open_incidents_page(&self, offset: i64, limit: i64) -> StoreResult<Bounded<Incident>> {
                    let total = count(
                        &self.pool,
                        "SELECT CAST(COALESCE(SUM(open), 0) AS BIGINT) FROM open_counts",
                        None,
                        None,
                    )
                    .await?;
                    let items = if offset < total {
                        ranked_open(&self.pool, offset, limit).await?
                    } else {
                        Vec::new()
                    };
                    Ok(Bounded { items, total })
                }

                async fn search_incidents(
                    &self,
                    search: &IncidentSearch,
                    offset: i64,
                    limit: i64,
                ) -> StoreResult<Bounded<Incident>> {
                    let total = if search.severity.is_none() && search.text.is_none() && search.status == StatusFilter::Open {
                        // The per-severity counts row, not an index walk.
                        count(&self.pool, "SELECT CAST(COALESCE(SUM(open), 0) AS BIGINT) FROM open_counts", None, None).await?
                    } else {
                        let (total,): (i64,) = searched(search, "SELECT COUNT(*) FROM incidents")
                            .build_query_as()
                            .fetch_one(&self.pool)
                            .await?;
                        total
                    };
                    if offset >= total {
                        return Ok(Bounded { items: Vec::new(), total });
                    }
                    let mut page = searched(search, "SELECT state FROM incidents");
                    // Each status's order is an index's (the open ones' rank, the resolved ones'
                    // resolve time); only "all" sorts what matched.
                    page.push(match search.status {
                        StatusFilter::Only(Status::Resolved) => " ORDER BY resolved_at DESC, number DESC",
                        StatusFilter::Open | StatusFilter::Only(_) => " ORDER BY severity, declared_at, number",
                        StatusFilter::Any => {
                            " ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, \
                             CASE WHEN status = 'resolved' THEN -COALESCE(resolved_at, 0) ELSE severity END, \
                             CASE WHEN status = 'resolved' THEN 0 ELSE declared_at END, number"
                        }
                    });
                    page.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
                    let rows: Vec<(String,)> = page.build_query_as().fetch_all(&self.pool).await?;
                    let items = rows.iter().map(|(s,)| decode_incident(s)).collect::<StoreResult<_>>()?;
                    Ok(Bounded { items, total })
                }

                async fn recent_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>> {
                    let rows: Vec<(String,)> =
                        sqlx::query_as("SELECT state FROM incidents ORDER BY number DESC LIMIT $1")
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?;
                    rows.iter().map(|(s,)| decode_incident(s)).collect()
                }

                async fn timeline(&self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
                    load_timeline(&self.pool, number, limit).await
                }

                async fn postmortems_due(
                    &self,
                    since: DateTime<Utc>,
                    by: DateTime<Utc>,
                    limit: i64,
                ) -> StoreResult<Bounded<Incident>> {
                    // A range of the partial index `incidents_postmortem_due`: the pending ones only.
                    let (by, since) = (sql::millis(by), sql::millis(since));
                    let items = states(&self.pool, POSTMORTEMS_DUE_SQL, &[by, since, limit], None).await?;
                    let (total,): (i64,) = sqlx::query_as(POSTMORTEMS_DUE_COUNT_SQL)
                    .bind(by)
                    .bind(since)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(Bounded { items, total })
                }

                async fn declared_since(&self, since: DateTime<Utc>, limit: i64) -> StoreResult<Vec<(Incident, i64)>> {
                    // Through `incidents_by_declared`, and each incident's updates through
                    // `timeline_by_incident`.
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT i.state, (SELECT COUNT(*) FROM timeline t WHERE t.incident = i.number AND t.kind = 'updated') \
                         FROM incidents i WHERE i.declared_at >= $1 ORDER BY i.declared_at, i.number LIMIT $2",
                    )
                    .bind(sql::millis(since))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|(state, updates)| Ok((decode_incident(state)?, *updates)))
                        .collect()
                }
            }

            #[async_trait::async_trait]
            impl IncidentTx for $Tx {
                async fn incident(&mut self, number: i64) -> StoreResult<Option<Incident>> {
                    load_incident(self.0.get().await?, number, true).await
                }

                async fn open_listing(
                    &mut self,
                    filter: &OpenFilter,
                    offset: i64,
                    limit: i64,
                ) -> StoreResult<Bounded<IncidentLine>> {
                    open_listing(self, filter, offset, limit).await
                }

                async fn open_count(&mut self, filter: &OpenFilter) -> StoreResult<i64> {
                    open_count(self, filter).await
                }

                async fn open_numbers(&mut self, limit: i64) -> StoreResult<Vec<i64>> {
                    let rows: Vec<(i64,)> = sqlx::query_as(
                        "SELECT number FROM incidents WHERE status <> 'resolved' \
                         ORDER BY severity, declared_at, number LIMIT $1",
                    )
                    .bind(limit)
                    .fetch_all(self.0.get().await?)
                    .await?;
                    Ok(rows.into_iter().map(|(n,)| n).collect())
                }

                async fn newest_open(&mut self) -> StoreResult<Option<i64>> {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "SELECT number FROM incidents WHERE status <> 'resolved' ORDER BY number DESC LIMIT 1",
                    )
                    .fetch_optional(self.0.get().await?)
                    .await?;
                    Ok(row.map(|(n,)| n))
                }

                async fn timeline(&mut self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
                    load_timeline(self.0.get().await?, number, limit).await
                }

                async fn timeline_len(&mut self, number: i64) -> StoreResult<i64> {
                    count(self.0.get().await?, "SELECT COUNT(*) FROM timeline WHERE incident = $1", Some(number), None).await
                }

                async fn insert_incident(&mut self, incident: &Incident) -> StoreResult<i64> {
                    // The counter row serialises numbering on both backends (a row lock on
                    // Postgres), and stays this transaction's until it ends: read once (as rows,
                    // so it goes with the writes gathered before it), then counted here.
                    let number = match self.0.counter {
                        Some(last) => {
                            let number = last + 1;
                            self.0
                                .write(|update| {
                                    update
                                        .push("UPDATE counters SET value = ")
                                        .push_bind(number)
                                        .push(" WHERE name = 'incident'");
                                })
                                .await?;
                            number
                        }
                        None => {
                            let numbered: Vec<(i64,)> = self
                                .0
                                .fetch_all(|update| {
                                    update.push("UPDATE counters SET value = value + 1 WHERE name = 'incident' RETURNING value");
                                })
                                .await?;
                            let Some(&(number,)) = numbered.first() else {
                                return Err(sqlx::Error::RowNotFound.into());
                            };
                            number
                        }
                    };
                    self.0.counter = Some(number);
                    let stored = Incident {
                        number,
                        ..incident.clone()
                    };
                    write_incidents(self, &[&stored]).await?;
                    write_roles(self, &stored, true).await?;
                    Ok(number)
                }

                async fn update_incident(&mut self, incident: &Incident, before: Option<&Incident>) -> StoreResult<()> {
                    write_incidents(self, &[incident]).await?;
                    if before.is_none_or(|before| roles_differ(incident, before)) {
                        write_roles(self, incident, false).await?;
                    }
                    Ok(())
                }

                async fn update_incidents(&mut self, changes: &[(Incident, Incident)]) -> StoreResult<()> {
                    let rows: Vec<&Incident> = changes.iter().map(|(incident, _)| incident).collect();
                    write_incidents(self, &rows).await?;
                    for (incident, before) in changes {
                        if roles_differ(incident, before) {
                            write_roles(self, incident, false).await?;
                        }
                    }
                    Ok(())
                }

                async fn incidents(&mut self, numbers: &[i64]) -> StoreResult<Vec<Incident>> {
                    let mut found = Vec::with_capacity(numbers.len());
                    for chunk in numbers.chunks(ROWS_CHUNK) {
                        let mut select = sqlx::QueryBuilder::<$Db>::new("SELECT state FROM incidents WHERE number");
                        sql::push_in(&mut select, chunk.iter().copied());
                        // In number order, so two transactions locking several rows on Postgres
                        // take them in the same order.
                        select.push(concat!(" ORDER BY number", $lock));
                        let rows: Vec<(String,)> = select.build_query_as().fetch_all(self.0.get().await?).await?;
                        for (state,) in rows {
                            found.push(decode_incident(&state)?);
                        }
                    }
                    Ok(found)
                }

                async fn append_timeline(&mut self, entries: &[TimelineEntry]) -> StoreResult<()> {
                    // One statement per chunk, in order (ids follow the events' order).
                    for chunk in entries.chunks(ROWS_CHUNK) {
                        let details = chunk
                            .iter()
                            .map(|e| sql::encode(&e.event))
                            .collect::<StoreResult<Vec<String>>>()?;
                        self.0.write(|insert| {
                            insert.push("INSERT INTO timeline (incident, at, actor, room, kind, detail) ");
                            insert.push_values(chunk.iter().zip(details), |mut row, (entry, detail)| {
                                row.push_bind(entry.incident)
                                    .push_bind(sql::millis(entry.at))
                                    .push_bind(entry.actor.clone())
                                    .push_bind(entry.room.clone())
                                    .push_bind(entry.event.kind())
                                    .push_bind(detail);
                            });
                        })
                        .await?;
                    }
                    Ok(())
                }

                async fn handoff_incidents(
                    &mut self,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                    limit: i64,
                ) -> StoreResult<HandoffIncidents> {
                    let everyone = OpenFilter::default();
                    let active = Bounded {
                        // The handoff shows more of each than a list line: whole states.
                        items: ranked_open(self.0.get().await?, 0, limit).await?,
                        total: open_count(self, &everyone).await?,
                    };
                    let range = [sql::millis(from), sql::millis(to)];
                    // The shift's counts are index ranges over its own declarations and
                    // resolutions, read once per handoff.
                    let declared = Bounded {
                        items: states(
                            self.0.get().await?,
                            "SELECT state FROM incidents WHERE number IN (SELECT number FROM incidents \
                             WHERE declared_at >= $1 AND declared_at < $2 ORDER BY declared_at, number LIMIT $3) \
                             ORDER BY declared_at, number",
                            &[range[0], range[1], limit],
                            None,
                        )
                        .await?,
                        total: range_count(self, "SELECT COUNT(*) FROM incidents WHERE declared_at >= $1 AND declared_at < $2", range).await?,
                    };
                    let resolved = Bounded {
                        items: states(
                            self.0.get().await?,
                            "SELECT state FROM incidents WHERE number IN (SELECT number FROM incidents \
                             WHERE resolved_at >= $1 AND resolved_at < $2 ORDER BY resolved_at, number LIMIT $3) \
                             ORDER BY resolved_at, number",
                            &[range[0], range[1], limit],
                            None,
                        )
                        .await?,
                        total: range_count(self, "SELECT COUNT(*) FROM incidents WHERE resolved_at >= $1 AND resolved_at < $2", range).await?,
                    };
                    Ok(HandoffIncidents {
                        active,
                        declared,
                        resolved,
                    })
                }
            }
        }
    };
}

pub(super) use incident_sql;
