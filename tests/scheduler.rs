//! Reminders, escalations, schedules, rotations and handoffs on an injected clock: jobs are
//! planned by commands, fired by `Scheduler::drain` when the hand-moved clock reaches them, and
//! judged by the outbox rows they leave (what each room would be sent).

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use common::{TestStore, backends, start_time};
use runroom::config::Config;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::command::Command;
use runroom::engine::room::Platform;
use runroom::engine::{Engine, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::scheduler::{Scheduler, SchedulerConfig, Tick};
use runroom::store::{JobKind, JobState, OutboxRow, Topic};

/// The people, a weekly rotation, a SEV1 escalation policy and the seeds' 10:00 morning
/// checklist (with `common::rooms_toml()`).
const POLICIES: &str = r#"
[[people]]
id = "joana"
name = "Joana"
slack = "U0JOANA"
whatsapp = "+55 11 98765-4321"
language = "pt-BR"
timezone = "America/Sao_Paulo"

[[people]]
id = "marcos"
name = "Marcos"
whatsapp = "+55 11 91234-5678"

[[people]]
id = "lead"
name = "Lia"
slack = "U0LEAD"

[[people]]
id = "cto"
name = "Carla"
telegram = "carla_cto"

[[rotations]]
id = "ops"
timezone = "America/Sao_Paulo"
start = "2026-03-02 10:00"
people = ["joana", "marcos"]
rooms = ["console", "campo", "soporte"]

[[escalation]]
severities = ["sev1"]
steps = [
  { after = "0m", notify = ["oncall"] },
  { after = "5m", notify = ["lead"] },
  { after = "30m", notify = ["cto"] },
]

[[schedules]]
id = "morning"
cron = "0 10 * * *"
timezone = "America/Sao_Paulo"
rooms = ["console", "campo"]
title = "Morning checklist"
items = ["Check service health", "Review overnight metrics", "Check queue backlog"]
"#;

struct Bot {
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    scheduler: Scheduler,
    backend: &'static str,
    /// The highest outbox id already looked at.
    seen: i64,
    next_event: u64,
}

impl Bot {
    /// A bot on `store` with the policies of `config` (a TOML text), at `start`.
    fn with(store: &TestStore, config: &str, start: DateTime<Utc>) -> Bot {
        let config = Config::parse(config, "test", &[]).expect("test config");
        let rooms = config.rooms().expect("rooms");
        let policies = config.policies(&rooms).expect("policies");
        let clock = Arc::new(ManualClock::new(start));
        let engine = Arc::new(Engine::new(
            store.store.clone(),
            Arc::new(I18n::new().expect("locales")),
            clock.clone(),
            EngineSettings {
                rooms,
                extra_roles: Vec::new(),
                policies,
                reaches: runroom::platforms::reaches(),
                ..Default::default()
            },
        ));
        let scheduler = Scheduler::new(engine.clone(), SchedulerConfig::default(), "test-worker");
        Bot {
            engine,
            clock,
            scheduler,
            backend: store.name,
            seen: 0,
            next_event: 0,
        }
    }

    /// Rooms and policies, without update reminders (so pages are all that fire).
    fn new(store: &TestStore) -> Bot {
        let rooms = common::rooms_toml();
        let config = format!("{rooms}{POLICIES}\n[reminders]\nsev1 = \"off\"\nsev2 = \"off\"\n");
        Bot::with(store, &config, start_time())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A message from `author` in `room`, whatever becomes of it.
    async fn try_say(&mut self, room: &str, author: &str, text: &str) -> Outcome {
        self.next_event += 1;
        let event = format!("evt-{}", self.next_event);
        let inbound = common::inbound(room, author, text, event, self.now());
        self.engine.handle(&inbound).await.expect("handled")
    }

    /// A command that must succeed.
    async fn say(&mut self, room: &str, author: &str, text: &str) -> Outcome {
        let out = self.try_say(room, author, text).await;
        assert!(
            matches!(out, Outcome::Handled { ok: true, .. }),
            "[{}] {text}: {out:?}",
            self.backend
        );
        out
    }

    /// A command that must succeed: the answer to its room.
    async fn answer(&mut self, room: &str, author: &str, text: &str) -> String {
        match self.say(room, author, text).await {
            Outcome::Handled { messages, .. } => messages[0].text.clone(),
            other => panic!("{text}: {other:?}"),
        }
    }

    /// A command that must be refused: the explanation its author gets.
    async fn refused(&mut self, text: &str) -> String {
        let outcome = self.try_say("console", "ana", text).await;
        refusal(text, outcome)
    }

    /// A structured action (a button) that must be refused, executed as the command it is.
    async fn refused_action(&mut self, command: Command) -> String {
        self.next_event += 1;
        let event = format!("evt-{}", self.next_event);
        let inbound = common::inbound("console", "ana", "", event, self.now());
        let outcome = self
            .engine
            .execute(command.clone(), &inbound.origin, &inbound.dedupe_key())
            .await
            .expect("handled");
        refusal(&format!("{command:?}"), outcome)
    }

    /// Moves the clock and fires whatever fell due.
    async fn advance(&self, by: Duration) -> Tick {
        self.clock.advance(by);
        self.scheduler.drain().await.expect("scheduler round")
    }

    /// Outbox rows queued since the last call, oldest first.
    async fn queued(&mut self) -> Vec<OutboxRow> {
        let mut rows = Vec::new();
        for platform in [
            Platform::Console,
            Platform::Slack,
            Platform::Whatsapp,
            Platform::Telegram,
        ] {
            rows.extend(
                self.engine
                    .store()
                    .pending_outbox(platform, 10_000)
                    .await
                    .expect("outbox")
                    .into_iter()
                    .filter(|r| r.id > self.seen),
            );
        }
        rows.sort_by_key(|r| r.id);
        self.seen = rows.last().map_or(self.seen, |r| r.id);
        rows
    }

    async fn pending_keys(&self, kind: JobKind) -> Vec<String> {
        self.engine
            .store()
            .jobs_in_state(JobState::Pending, 1000)
            .await
            .expect("jobs")
            .into_iter()
            .filter(|j| j.kind == kind)
            .map(|j| j.key)
            .collect()
    }
}

/// The explanation a refused command's author gets.
fn refusal(what: &str, outcome: Outcome) -> String {
    match outcome {
        Outcome::Handled {
            ok: false,
            messages,
            ..
        } => messages[0].text.clone(),
        other => panic!("{what} was not refused: {other:?}"),
    }
}

fn to<'a>(rows: &'a [OutboxRow], room: &str) -> Vec<&'a OutboxRow> {
    rows.iter().filter(|r| r.message.room_id == room).collect()
}

/// The text of the handoff (🔄) among the rows to `room`.
fn handoff_to<'a>(rows: &'a [OutboxRow], room: &str) -> &'a str {
    &to(rows, room)
        .into_iter()
        .find(|r| r.message.text.contains("🔄"))
        .expect("a handoff")
        .message
        .text
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

#[tokio::test]
async fn update_reminders_follow_the_cadence_and_reset_snooze_replan_and_stop() {
    for backend in backends().await {
        // The default cadence (SEV1 15 min, SEV3 60) and no escalation policy.
        let mut bot = Bot::with(&backend, &common::rooms_toml(), start_time());
        let declared = bot
            .say("console", "joana", "inc declare sev1 Checkout down")
            .await;
        // The card shows when the next update is due: SEV1 every 15 minutes.
        let Outcome::Handled { messages, .. } = &declared else {
            unreachable!()
        };
        let card = messages[0].rich.as_ref().expect("card");
        assert!(
            card.fields
                .iter()
                .any(|f| f.label == "Next update due" && f.value.contains("13:15")),
            "{card:?}"
        );
        bot.queued().await;
        bot.say("console", "joana", "inc assign commander @joana")
            .await;
        bot.queued().await;

        let tick = bot.advance(Duration::minutes(14)).await;
        assert_eq!(tick.fired, 0, "[{}] not due yet", bot.backend);
        let tick = bot.advance(Duration::minutes(1)).await;
        assert_eq!((tick.fired, tick.late), (1, 0), "[{}]", bot.backend);
        let rows = bot.queued().await;
        // Every war room, in its language, none to the announce room.
        assert_eq!(rows.len(), 3, "{rows:#?}");
        assert!(to(&rows, "soporte").is_empty());
        let console = &to(&rows, "console")[0].message;
        assert_eq!(console.topic, Some(Topic::Reminder));
        assert!(
            console
                .text
                .contains("INC-1 · SEV1 (critical) · Checkout down: an update is due")
                && console.text.contains("@joana, please post one")
                && console
                    .text
                    .contains(r#"inc update INC-1 impact="…" actions="…" next=15m blockers="…""#),
            "{}",
            console.text
        );
        assert!(
            to(&rows, "campo")[0]
                .message
                .text
                .contains("está na hora de uma atualização"),
            "{rows:#?}"
        );
        // Nobody posted: it nags again one cadence later.
        assert_eq!(bot.pending_keys(JobKind::Reminder).await.len(), 1);

        // An update resets the clock: the next one is due 15 minutes after it.
        bot.advance(Duration::minutes(5)).await; // 13:20
        bot.say("runroom", "ana", "inc update impact=\"30% of orders\"")
            .await;
        bot.queued().await;
        assert_eq!(
            bot.advance(Duration::minutes(10)).await.fired,
            0,
            "13:30: the old time passed quietly"
        );
        let stored = bot.engine.store().incident(1).await.unwrap().unwrap();
        assert_eq!(stored.update_due_at, Some(at(2026, 3, 2, 13, 35)));

        // Snooze: 30 minutes from now.
        bot.say("console", "joana", "inc snooze 30m").await;
        assert_eq!(bot.advance(Duration::minutes(29)).await.fired, 0);
        assert_eq!(bot.advance(Duration::minutes(1)).await.fired, 1, "14:00");
        bot.queued().await;

        // SEV1 → SEV3: one hour from the last update (13:20), so 14:20.
        bot.say("console", "joana", "inc sev 3").await;
        bot.queued().await;
        assert_eq!(bot.advance(Duration::minutes(19)).await.fired, 0);
        assert_eq!(bot.advance(Duration::minutes(1)).await.fired, 1, "14:20");
        bot.queued().await;

        // Resolve stops it: nothing is left to fire, ever.
        bot.say("console", "joana", "inc resolve").await;
        bot.queued().await;
        assert!(bot.pending_keys(JobKind::Reminder).await.is_empty());
        assert_eq!(bot.advance(Duration::hours(5)).await.fired, 0);
        assert!(bot.queued().await.is_empty());
    }
}

#[tokio::test]
async fn an_unacknowledged_incident_escalates_step_by_step_until_someone_acks() {
    for backend in backends().await {
        let mut bot = Bot::new(&backend);
        bot.say("runroom", "ana", "inc declare sev1 Checkout down")
            .await;
        bot.queued().await;

        // Step 1 at once: the on-call of the ops rotation (Joana this week).
        let tick = bot.advance(Duration::zero()).await;
        assert_eq!(tick.fired, 1, "[{}]", bot.backend);
        let rows = bot.queued().await;
        let slack = &to(&rows, "runroom")[0].message;
        assert!(
            slack.text.contains("paging <@U0JOANA|Joana> (step 1 of 3)"),
            "Slack mentions her: {}",
            slack.text
        );
        let campo = &to(&rows, "campo")[0].message;
        assert!(
            campo.text.contains("acionando @Joana (etapa 1 de 3)"),
            "{}",
            campo.text
        );
        // And her own WhatsApp, with an Ack button (a template with Ack outside the window).
        let direct = &to(&rows, "page:joana")[0].message;
        assert_eq!(
            (direct.platform.as_str(), direct.chat.as_str()),
            ("whatsapp", "+5511987654321")
        );
        assert_eq!(direct.topic, Some(Topic::Page));
        assert_eq!(direct.language, Lang::PtBr);
        assert_eq!(direct.rich.as_ref().unwrap().buttons[0].id, "ack:1");

        // Step 2 five minutes later: the lead.
        assert_eq!(bot.advance(Duration::minutes(4)).await.fired, 0);
        assert_eq!(bot.advance(Duration::minutes(1)).await.fired, 1);
        let rows = bot.queued().await;
        assert!(
            to(&rows, "runroom")[0]
                .message
                .text
                .contains("<@U0LEAD|Lia> (step 2 of 3)")
        );

        // Ack stops the chain: the CTO is never paged.
        bot.say("campo", "joana", "inc ciente").await;
        bot.queued().await;
        assert_eq!(bot.advance(Duration::minutes(60)).await.fired, 0);
        assert!(bot.queued().await.is_empty());

        // Every page is on the timeline.
        let timeline = bot.engine.store().timeline(1, 100).await.unwrap();
        let pages: Vec<&str> = timeline
            .iter()
            .filter(|e| e.event.kind() == "paged")
            .map(|e| e.actor.as_str())
            .collect();
        assert_eq!(pages, ["runroom", "runroom"]);
    }
}

#[tokio::test]
async fn escalate_jumps_a_step_by_hand_and_the_timer_goes_on_from_there() {
    let backend = common::sqlite().await;
    let mut bot = Bot::new(&backend);
    bot.say("console", "ana", "inc declare sev1 Checkout down")
        .await;
    bot.advance(Duration::zero()).await; // step 1: Joana
    bot.queued().await;
    bot.say("console", "ana", "inc escalate").await;
    let rows = bot.queued().await;
    assert!(
        to(&rows, "console")[0]
            .message
            .text
            .contains("escalated by ana: paging @Lia (step 2 of 3)"),
        "{rows:#?}"
    );
    // The timed step 2 (due at +5 min) does not page Lia again; step 3 comes at +30.
    assert_eq!(bot.advance(Duration::minutes(5)).await.messages, 0);
    assert_eq!(bot.advance(Duration::minutes(25)).await.fired, 1);
    let rows = bot.queued().await;
    assert!(
        to(&rows, "console")[0]
            .message
            .text
            .contains("@carla_cto (step 3 of 3)"),
        "Telegram username: {rows:#?}"
    );
    let refused = bot.refused("inc escalate").await;
    assert!(
        refused.contains("already paged all 3 escalation steps"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_button_escalates_and_a_severity_without_policy_says_so() {
    let backend = common::sqlite().await;
    let mut bot = Bot::new(&backend);
    bot.say("console", "ana", "inc declare sev3 Slow dashboard")
        .await;
    let press = runroom::engine::command::button_command("escalate:1").unwrap();
    let refused = bot.refused_action(press).await;
    assert!(
        refused.contains("SEV3 (medium), which has no escalation policy"),
        "{refused}"
    );
}

/// A bot with one schedule and no other policies.
fn schedule_config(cron: &str, tz: &str) -> String {
    format!(
        r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"

[[schedules]]
id = "s"
cron = "{cron}"
timezone = "{tz}"
rooms = ["console"]
title = "Window"
"#
    )
}

/// Fires a schedule, ten minutes at a time across `from..to`; returns when each occurrence was
/// due.
async fn fired_between(
    cron: &str,
    tz: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let backend = common::sqlite().await;
    let bot = Bot::with(&backend, &schedule_config(cron, tz), from);
    bot.engine.plan_recurring().await.unwrap();
    while bot.now() < to {
        bot.advance(Duration::minutes(10)).await;
    }
    let mut due: Vec<DateTime<Utc>> = bot
        .engine
        .store()
        .jobs_in_state(JobState::Done, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.due_at)
        .collect();
    due.sort();
    due
}

#[tokio::test]
async fn cron_schedules_keep_local_time_across_dst_in_new_york_and_run_in_kolkata() {
    let ny = "America/New_York";
    let ist = "Asia/Kolkata";
    let march = (at(2026, 3, 7, 0, 0), at(2026, 3, 10, 0, 0));
    let november = (at(2026, 10, 31, 0, 0), at(2026, 11, 3, 0, 0));
    // Each schedule fires once on each day of its window, at these times (UTC).
    let cases = [
        // 10:00 every day: 15:00 UTC in EST, 14:00 UTC from 8 March (EDT).
        ("0 10 * * *", ny, march, ["15:00", "14:00", "14:00"]),
        // 02:30 does not exist on 8 March: that day it runs once, right after the gap (03:00).
        ("30 2 * * *", ny, march, ["07:30", "07:00", "06:30"]),
        // 01:30 happens twice on 1 November: it runs once, at the first (EDT) one.
        ("30 1 * * *", ny, november, ["05:30", "05:30", "06:30"]),
        // The seeds' IST windows (UTC+5:30, no DST): 05:50 pre-delivery, 20:30 nightly.
        ("50 5 * * *", ist, march, ["00:20", "00:20", "00:20"]),
        ("30 20 * * *", ist, march, ["15:00", "15:00", "15:00"]),
    ];
    for (cron, tz, (from, to), times) in cases {
        let expected: Vec<DateTime<Utc>> = (0..)
            .zip(times)
            .map(|(day, time)| {
                let time = NaiveTime::parse_from_str(time, "%H:%M").unwrap();
                from + Duration::days(day) + (time - NaiveTime::MIN)
            })
            .collect();
        assert_eq!(
            fired_between(cron, tz, from, to).await,
            expected,
            "{cron} in {tz}"
        );
    }
}

#[tokio::test]
async fn a_checklist_is_posted_on_time_and_ticked_from_chat() {
    for backend in backends().await {
        let mut bot = Bot::new(&backend);
        bot.engine.plan_recurring().await.unwrap();
        // Tuesday 10:00 in São Paulo is 13:00 UTC.
        assert_eq!(
            bot.advance(Duration::hours(23) + Duration::minutes(59))
                .await
                .fired,
            0
        );
        let tick = bot.advance(Duration::minutes(1)).await;
        assert_eq!(tick.fired, 1, "[{}]", bot.backend);
        let rows = bot.queued().await;
        let console = &to(&rows, "console")[0].message.text;
        assert!(
            console.contains("📋 Morning checklist")
                && console.contains("☐ 2. Review overnight metrics")
                && console.contains("inc check 1 2"),
            "{console}"
        );
        assert!(
            to(&rows, "campo")[0]
                .message
                .text
                .contains("Marque os itens")
        );

        let answer = bot.answer("campo", "felipe", "inc marcar 2").await;
        assert!(
            answer.contains("1 de 3 feitos")
                && answer.contains("☑ 2. Review overnight metrics (felipe, 10:00)"),
            "{}",
            answer
        );
        // The state is kept: another room sees the tick.
        let answer = bot.answer("console", "joana", "inc check 1 3").await;
        assert!(answer.contains("3 of 3 done"), "{}", answer);
    }
}

#[tokio::test]
async fn ticking_what_is_not_there_is_explained() {
    let backend = common::sqlite().await;
    let mut bot = Bot::new(&backend);
    let refused = bot.refused("inc check 1").await;
    assert!(
        refused.contains("No checklist has been posted"),
        "{refused}"
    );
    bot.engine.plan_recurring().await.unwrap();
    bot.advance(Duration::days(1)).await;
    let refused = bot.refused("inc check 7").await;
    assert!(
        refused.contains("The checklist has 3 items: there is no item 7"),
        "{refused}"
    );
    let refused = bot.refused("inc check x").await;
    assert!(refused.contains("“x” is not an item number"), "{refused}");
}

#[tokio::test]
async fn oncall_answers_now_and_next_in_the_room_zone_and_overrides_page_instead() {
    let backend = common::sqlite().await;
    let mut bot = Bot::new(&backend);
    // The São Paulo 10:00 handoff of 9 March is 09:00 in New York (on EDT since 8 March).
    let text = bot.answer("runroom", "ana", "inc oncall").await;
    assert!(
        text.contains("ops — on call now, until 2026-03-09 09:00 EDT")
            && text.contains("• Joana (on call)")
            && text.contains("Next:\n• Marcos (on call)"),
        "{text}"
    );

    bot.say("console", "joana", "inc oncall override @marcos 2h")
        .await;
    let answer = bot.answer("campo", "ana", "inc plantão").await;
    assert!(
        answer.contains(
            "• Marcos (de plantão, substituição até 02/03/2026 12:00 -03, definida por joana)"
        ),
        "{}",
        answer
    );
    // While the override runs, `oncall` in an escalation means Marcos.
    bot.queued().await;
    bot.say("console", "ana", "inc declare sev1 Checkout down")
        .await;
    bot.advance(Duration::zero()).await;
    let rows = bot.queued().await;
    assert!(!to(&rows, "page:marcos").is_empty(), "{rows:#?}");
    assert!(to(&rows, "page:joana").is_empty());
}

#[tokio::test]
async fn a_handoff_fires_at_its_local_time_with_the_summary_in_each_room_language() {
    for backend in backends().await {
        let mut bot = Bot::new(&backend);
        bot.engine.plan_recurring().await.unwrap();
        // During Joana's week: one incident resolved, one still open with a follow-up, a note.
        bot.say("console", "joana", "inc declare sev2 Rastreio atrasado")
            .await;
        bot.advance(Duration::hours(2)).await;
        bot.say("console", "joana", "inc resolve INC-1 fila drenada")
            .await;
        bot.say("console", "joana", "inc declare sev1 Checkout down")
            .await;
        bot.say(
            "console",
            "joana",
            "inc follow-up INC-2 add a queue depth alert",
        )
        .await;
        bot.say("campo", "joana", "inc handoff note deploy v1.2.3 pendente")
            .await;
        bot.queued().await;

        // The preview shows what the handoff will say.
        let answer = bot.answer("console", "marcos", "inc handoff preview").await;
        assert!(answer.contains("Handoff preview · ops"), "{}", answer);

        // Monday 9 March, 10:00 in São Paulo = 13:00 UTC: not a minute before.
        let until = at(2026, 3, 9, 12, 59) - bot.now();
        bot.advance(until).await;
        bot.queued().await;
        let tick = bot.advance(Duration::minutes(1)).await;
        let rows = bot.queued().await;
        let handoffs: Vec<&OutboxRow> = rows
            .iter()
            .filter(|r| r.message.text.contains("🔄"))
            .collect();
        assert_eq!(handoffs.len(), 3, "[{}] {tick:?} {rows:#?}", bot.backend);

        let en = handoff_to(&rows, "console");
        for expected in [
            "🔄 On-call handoff · ops · 2026-03-09 13:00 UTC",
            "From:\n• Joana (on call)",
            "To:\n• Marcos (on call)",
            "Active incidents:\n• INC-2 · SEV1 (critical) · investigating · Checkout down (open 6 d 22 h)",
            "Declared this shift:\n• INC-1 · SEV2 (high) · Rastreio atrasado",
            "Resolved this shift:\n• INC-1 · Rastreio atrasado (took 2 h 0 min)",
            "Open follow-ups:\n• INC-2 #1: add a queue depth alert",
            "Upcoming:\n• 2026-03-09 13:00 UTC: Morning checklist\n• 2026-03-16 13:00 UTC: next ops handoff",
            "Notes:\n• joana: deploy v1.2.3 pendente",
        ] {
            assert!(
                en.contains(expected),
                "[{}] {expected:?} in:\n{en}",
                bot.backend
            );
        }
        let pt = handoff_to(&rows, "campo");
        for expected in [
            "🔄 Passagem de plantão · ops · 09/03/2026 10:00 -03",
            "De:\n• Joana (de plantão)",
            "Incidentes ativos:\n• INC-2 · SEV1 (crítico) · investigando",
            "Pendências abertas:",
            "Notas:\n• joana: deploy v1.2.3 pendente",
        ] {
            assert!(pt.contains(expected), "{expected:?} in:\n{pt}");
        }
        let es = &to(&rows, "soporte")[0].message.text;
        for expected in [
            "🔄 Traspaso de guardia · ops · 09/03/2026 08:00 -05",
            "Para:\n• Marcos (de guardia)",
            "Resueltos en este turno:\n• INC-1 · Rastreio atrasado",
            "Seguimientos abiertos:",
        ] {
            assert!(es.contains(expected), "{expected:?} in:\n{es}");
        }

        // Handed over: the next preview starts with no notes, and the next handoff is planned.
        let answer = bot.answer("console", "marcos", "inc handoff").await;
        assert!(answer.contains("Notes:\n• none"), "{}", answer);
        assert!(
            bot.pending_keys(JobKind::Handoff).await
                == [format!(
                    "handoff:ops:{}",
                    at(2026, 3, 16, 13, 0).timestamp_millis()
                )]
        );
    }
}

#[tokio::test]
async fn a_job_missed_while_runroom_was_down_fires_once_and_says_it_is_late() {
    for backend in backends().await {
        let hourly = schedule_config("0 * * * *", "UTC");
        let first = Bot::with(&backend, &hourly, start_time());
        first.engine.plan_recurring().await.unwrap();
        drop(first);

        // Five hours later a new process (engine and scheduler) starts on the same database.
        let mut second = Bot::with(
            &backend,
            &hourly,
            start_time() + Duration::hours(5) + Duration::minutes(10),
        );
        second.engine.plan_recurring().await.unwrap();
        let tick = second.scheduler.drain().await.unwrap();
        assert_eq!(
            (tick.fired, tick.late),
            (1, 1),
            "[{}] once, not five times",
            second.backend
        );
        let rows = second.queued().await;
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].message.text.contains(
                "(Late: this was due at 2026-03-02 14:00 UTC; runroom was not running then.)"
            ),
            "{}",
            rows[0].message.text
        );
        // The next one is the next hour after now, on time.
        assert_eq!(
            second.pending_keys(JobKind::Schedule).await,
            [format!(
                "schedule:s:{}",
                at(2026, 3, 2, 19, 0).timestamp_millis()
            )]
        );
        let tick = second.advance(Duration::minutes(50)).await;
        assert_eq!((tick.fired, tick.late), (1, 0));
    }
}

#[tokio::test]
async fn a_reminder_missed_during_a_restart_fires_once() {
    let backend = common::sqlite().await;
    // A wall clock has sub-millisecond precision; the job's time is stored in milliseconds.
    let declared = start_time() + Duration::nanoseconds(123_456_789);
    let mut first = Bot::with(&backend, &common::rooms_toml(), declared);
    first
        .say("console", "joana", "inc declare sev2 Rastreio atrasado")
        .await;
    drop(first);
    let mut second = Bot::with(
        &backend,
        &common::rooms_toml(),
        start_time() + Duration::hours(3),
    );
    second.queued().await;
    let tick = second.scheduler.drain().await.unwrap();
    assert_eq!((tick.fired, tick.late), (1, 1));
    let rows = second.queued().await;
    assert_eq!(rows.len(), 3, "one reminder to each war room: {rows:#?}");
    assert!(
        rows.iter()
            .all(|r| r.message.text.contains("Late") || r.message.text.contains("Atrasado"))
    );
}

/// The lines of one part of a handoff summary: those after `heading` up to the next part's.
fn handoff_part<'a>(summary: &'a str, heading: &str) -> Vec<&'a str> {
    summary
        .lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.starts_with('•') || l.starts_with('…'))
        .collect()
}

#[tokio::test]
async fn a_handoff_with_ten_thousand_open_incidents_shows_ten_of_each_and_counts_the_rest() {
    for backend in backends().await {
        let mut bot = Bot::new(&backend);
        bot.engine.plan_recurring().await.unwrap();
        // Declared in the 2 h 47 min before now, three hours into the shift: all in this
        // shift, and all still open.
        bot.advance(Duration::hours(3)).await;
        common::insert_open_incidents(&backend.store, 10_000, bot.now()).await;
        let summary = bot.answer("console", "marcos", "inc handoff preview").await;
        for heading in ["Active incidents:", "Declared this shift:"] {
            let part = handoff_part(&summary, heading);
            assert_eq!(part.len(), 11, "[{}] {heading}\n{summary}", bot.backend);
            assert!(
                part[..10].iter().all(|l| l.starts_with("• INC-")),
                "[{}] {heading} {part:?}",
                bot.backend
            );
            assert_eq!(part[10], "…and 9990 more", "[{}] {heading}", bot.backend);
        }
        // The most severe first: the seeded SEV1s are INC-1, INC-5, INC-9 ….
        let active = handoff_part(&summary, "Active incidents:");
        assert!(
            active[0].starts_with("• INC-1 · SEV1") && active[1].starts_with("• INC-5 · SEV1"),
            "[{}] {active:?}",
            bot.backend
        );
        assert_eq!(
            handoff_part(&summary, "Resolved this shift:"),
            ["• none"],
            "[{}]",
            bot.backend
        );
    }
}
