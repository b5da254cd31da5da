//! Heartbeats in the engine: a ping is stored with the next check (a durable job at the ping's
//! deadline, replacing the one before) and, if the heartbeat was missed, resolves its alert;
//! a check that finds no ping since fires the heartbeat's alert, which opens the incident
//! through the alert path (stored, deduplicated, routed, announced).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::jobs::heartbeat_check;
use super::unit::{Committed, Unit};
use super::{Engine, EngineError};
use crate::alerts::heartbeat::Heartbeat;
use crate::alerts::model::{Alert, AlertStatus};
use crate::i18n::Msg;
use crate::store::JobKind;

/// The key of a heartbeat's one alert.
const MISSED: &str = "missed";

impl Engine {
    /// The configured heartbeat `id`.
    pub fn heartbeat(&self, id: &str) -> Option<&Heartbeat> {
        self.heartbeats.iter().find(|h| h.id == id)
    }

    pub fn heartbeats(&self) -> &[Heartbeat] {
        &self.heartbeats
    }

    /// Records a ping of `heartbeat` and plans its next check; if it had been missed, its
    /// alert resolves (said in the rooms, and the incident resolved when configured so).
    /// Returns whether it had been missed.
    pub async fn ping(&self, heartbeat: &Heartbeat) -> Result<Committed<bool>, EngineError> {
        let span = tracing::info_span!("heartbeat", id = %heartbeat.id);
        let work = self.unguarded(|unit| {
            Box::pin(async move {
                let now = unit.out.now();
                unit.tx.record_ping(&heartbeat.id, now).await?;
                let subject = format!("heartbeat:{}", heartbeat.id);
                unit.tx.cancel_jobs(&subject, JobKind::Heartbeat).await?;
                unit.tx
                    .schedule_jobs(&[heartbeat_check(heartbeat, now, now)], now)
                    .await?;
                unit.planned_jobs = true;
                let source = heartbeat.source();
                let missed = unit
                    .tx
                    .alerts_of(&source, &[MISSED.to_string()])
                    .await?
                    .first()
                    .is_some_and(|a| a.status == AlertStatus::Firing);
                if missed {
                    self.keyed(unit, &source).await?;
                    let alert = self.heartbeat_alert(heartbeat, AlertStatus::Resolved, now);
                    self.take_alerts_with(unit, &heartbeat.rules(), &[alert])
                        .await?;
                }
                Ok(missed)
            })
        });
        tracing::Instrument::instrument(work, span).await
    }

    /// A heartbeat's check fell due (in the job's unit): if no ping came since, its alert fires.
    pub(super) async fn check_heartbeat(
        &self,
        unit: &mut Unit<'_>,
        id: &str,
        spec: &str,
    ) -> Result<(), EngineError> {
        // Config changed since it was planned: `plan_recurring` plans it anew.
        let Some(heartbeat) = self.heartbeat(id).filter(|h| h.spec() == spec) else {
            return Ok(());
        };
        let now = unit.out.now();
        let last = unit
            .tx
            .last_pings()
            .await?
            .into_iter()
            .find(|(h, _)| h == id)
            .map(|(_, at)| at);
        if let Some(last) = last
            && now < last + heartbeat.deadline()
        {
            // A ping came (its own check is planned): nothing is missed.
            return Ok(());
        }
        let alert = self.heartbeat_alert(heartbeat, AlertStatus::Firing, now);
        self.take_alerts_with(unit, &heartbeat.rules(), &[alert])
            .await?;
        Ok(())
    }

    fn heartbeat_alert(
        &self,
        heartbeat: &Heartbeat,
        status: AlertStatus,
        now: DateTime<Utc>,
    ) -> Alert {
        let title = heartbeat.title.clone().unwrap_or_else(|| {
            self.title_text(
                &Msg::new("heartbeat-missed-title").text("heartbeat", heartbeat.id.clone()),
            )
        });
        Alert {
            key: MISSED.to_string(),
            status,
            group_key: MISSED.to_string(),
            labels: BTreeMap::from([("heartbeat".to_string(), heartbeat.id.clone())]),
            title,
            links: Vec::new(),
            starts_at: (status == AlertStatus::Firing).then_some(now),
            ends_at: (status == AlertStatus::Resolved).then_some(now),
            acknowledge: false,
        }
    }
}
