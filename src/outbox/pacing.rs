//! Pacing with the generic cell rate algorithm (GCRA): per platform and per destination, in
//! the injected clock's time. A reservation says *when* a message may go, so a worker can hold
//! a claimed message until its slot instead of asking again and again. When a message actually
//! went is reported back ([`Pacer::went`]), so one that left late pushes the next ones back
//! instead of squeezing the gap after it. Pauses (a platform's Retry-After) hold only what their
//! [`PauseScope`] covers.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::PauseScope;
use super::config::PlatformLimits;

/// One rate with a burst, for any number of keys.
#[derive(Debug, Clone)]
struct Gcra {
    interval: chrono::Duration,
    tolerance: chrono::Duration,
    /// Theoretical arrival time of the next message per key.
    tat: HashMap<String, DateTime<Utc>>,
}

impl Gcra {
    /// One message of a burst above one is kept in hand: the platform counts arrivals, and a
    /// burst that reaches it late (a cold connection) would otherwise make the next message look
    /// early.
    fn new(rate: f64, burst: u32) -> Gcra {
        let interval = chrono::Duration::microseconds((1_000_000.0 / rate.max(1e-6)) as i64);
        let usable = burst.saturating_sub(1).max(1);
        Gcra {
            interval,
            tolerance: interval * (usable as i32 - 1),
            tat: HashMap::new(),
        }
    }

    /// The earliest instant a message for `key` conforms.
    fn earliest(&self, key: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        let tat = self.tat.get(key).copied().unwrap_or(now).max(now);
        (tat - self.tolerance).max(now)
    }

    /// Takes the slot at `at` (which must be at or after [`Gcra::earliest`]).
    fn take(&mut self, key: &str, at: DateTime<Utc>) {
        let tat = self.tat.get(key).copied().unwrap_or(at).max(at);
        self.tat.insert(key.to_string(), tat + self.interval);
    }

    /// A message for `key` actually went at `at`: whatever its slot was, the next conforms no
    /// earlier than one interval after it.
    fn went(&mut self, key: &str, at: DateTime<Utc>) {
        let floor = at + self.interval;
        let tat = self.tat.entry(key.to_string()).or_insert(floor);
        if *tat < floor {
            *tat = floor;
        }
    }

    /// `n` more messages for `key` went at `at`, beyond the one its slot was taken for.
    fn charge(&mut self, key: &str, n: u32, at: DateTime<Utc>) {
        let tat = self.tat.get(key).copied().unwrap_or(at).max(at);
        self.tat
            .insert(key.to_string(), tat + self.interval * n as i32);
    }

    /// Nothing for `key` before `until`.
    fn block(&mut self, key: &str, until: DateTime<Utc>) {
        let floor = until + self.tolerance;
        let tat = self.tat.entry(key.to_string()).or_insert(floor);
        if *tat < floor {
            *tat = floor;
        }
    }
}

const PLATFORM_KEY: &str = "";

/// A platform's pacer: its account-wide rate and each destination's.
#[derive(Debug, Clone)]
pub struct Pacer {
    limits: PlatformLimits,
    /// How many processes share the account-wide limit (this one included).
    share: u32,
    platform: Gcra,
    per_chat: Gcra,
    /// When the last message to the platform was answered, with a burst of 1 (see
    /// [`Pacer::strict`]).
    last_answered: Option<DateTime<Utc>>,
    pauses: HashMap<PauseScope, DateTime<Utc>>,
    /// Per destination, when its latest call through [`Pacer::turn`] went.
    last_call: HashMap<String, DateTime<Utc>>,
}

impl Pacer {
    pub fn new(limits: &PlatformLimits) -> Pacer {
        Pacer {
            limits: *limits,
            share: 1,
            platform: Gcra::new(limits.rate, limits.burst),
            per_chat: Gcra::new(limits.per_chat_rate, limits.per_chat_burst),
            last_answered: None,
            pauses: HashMap::new(),
            last_call: HashMap::new(),
        }
    }

    /// Paces the account-wide limit to `1 / workers` of itself (rate and burst), for `workers`
    /// processes sending on one account. Returns whether the share changed.
    pub fn set_share(&mut self, workers: u32) -> bool {
        let workers = workers.max(1);
        if workers == self.share {
            return false;
        }
        let tat = std::mem::take(&mut self.platform.tat);
        self.platform = Gcra::new(
            self.limits.rate / f64::from(workers),
            (self.limits.burst / workers).max(1),
        );
        self.platform.tat = tat;
        self.share = workers;
        true
    }

    pub fn share(&self) -> u32 {
        self.share
    }

    /// A burst of 1: the platform lets no two messages arrive closer than one interval, and
    /// nothing here can see when a request arrives, only when it left and when its answer came
    /// back. So messages go one at a time, each one interval after the previous one was
    /// answered (an instant known to be after it arrived).
    pub fn strict(&self) -> bool {
        self.limits.burst <= 1
    }

    /// With [`Pacer::strict`], the earliest instant the next message may leave, whatever slot
    /// it reserved.
    pub fn floor(&self) -> Option<DateTime<Utc>> {
        self.last_answered.map(|at| at + self.platform.interval)
    }

    /// The interval between two messages to one destination.
    pub fn chat_interval(&self) -> chrono::Duration {
        self.per_chat.interval
    }

    /// Whether the destination's own rate (not the account's) sets `chat`'s earliest slot.
    pub fn chat_bound(&self, chat: &str, now: DateTime<Utc>) -> bool {
        self.per_chat.earliest(chat, now) >= self.platform.earliest(PLATFORM_KEY, now)
    }

    /// The earliest slot for a message to `chat`, without taking it.
    pub fn earliest(&self, chat: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        self.platform
            .earliest(PLATFORM_KEY, now)
            .max(self.per_chat.earliest(chat, now))
    }

    /// Reserves the earliest slot for `chat` if it is within `max_wait`; `Err(slot)` otherwise,
    /// with nothing reserved.
    pub fn reserve(
        &mut self,
        chat: &str,
        now: DateTime<Utc>,
        max_wait: Duration,
    ) -> Result<DateTime<Utc>, DateTime<Utc>> {
        let slot = self.earliest(chat, now);
        let limit = now + chrono::Duration::from_std(max_wait).unwrap_or(chrono::Duration::zero());
        if slot > limit {
            return Err(slot);
        }
        self.platform.take(PLATFORM_KEY, slot);
        self.per_chat.take(chat, slot);
        Ok(slot)
    }

    /// A message to `chat` left at `started` and was answered at `answered`: later slots count
    /// from when it actually went (from its answer, with a burst of 1).
    pub fn went(&mut self, chat: &str, started: DateTime<Utc>, answered: DateTime<Utc>) {
        if self.strict() {
            self.platform.went(PLATFORM_KEY, answered);
            self.last_answered = Some(self.last_answered.map_or(answered, |a| a.max(answered)));
        } else {
            self.platform.went(PLATFORM_KEY, started);
        }
        self.per_chat.went(chat, started);
    }

    /// Whether a call to `chat` may go at `now`: one interval after the chat's last call, for a
    /// platform that counts every call (a Telegram group's 20 a minute counts a message's pin
    /// and card edit too). If so it is recorded, and an `extra` call (beyond the one the row's
    /// slot paid for) is charged to the chat's rate and the account's, so slots reserved from
    /// now on come after it. `Err`: when it may.
    pub fn turn(
        &mut self,
        chat: &str,
        extra: bool,
        now: DateTime<Utc>,
    ) -> Result<(), DateTime<Utc>> {
        let interval = self.per_chat.interval;
        if let Some(last) = self.last_call.get(chat)
            && *last + interval > now
        {
            return Err(*last + interval);
        }
        // A chat quiet for a while needs no entry.
        self.last_call.retain(|_, last| *last + interval * 4 > now);
        self.last_call.insert(chat.to_string(), now);
        if extra {
            self.platform.charge(PLATFORM_KEY, 1, now);
            self.per_chat.charge(chat, 1, now);
        }
        Ok(())
    }

    /// The platform asked for a pause (Retry-After): nothing in `scope` before `until`.
    pub fn pause(&mut self, scope: PauseScope, until: DateTime<Utc>) {
        match &scope {
            PauseScope::Account => self.platform.block(PLATFORM_KEY, until),
            PauseScope::Chat(chat) => self.per_chat.block(chat, until),
            PauseScope::Method(_) | PauseScope::MethodInChat { .. } => {}
        }
        let end = self.pauses.entry(scope).or_insert(until);
        if *end < until {
            *end = until;
        }
    }

    /// When the latest pause in force at `now` that holds a row to `chat` (whose send may call
    /// `methods`) ends; a message whose slot was reserved before the pause must wait for it.
    pub fn paused_until(
        &mut self,
        chat: &str,
        methods: &[&str],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.pauses.retain(|_, until| *until > now);
        self.pauses
            .iter()
            .filter(|(scope, _)| scope.covers(chat, methods))
            .map(|(_, until)| *until)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn limits(rate: f64, burst: u32, per_chat_rate: f64, per_chat_burst: u32) -> PlatformLimits {
        PlatformLimits {
            rate,
            burst,
            per_chat_rate,
            per_chat_burst,
            ..PlatformLimits::default()
        }
    }

    #[test]
    fn burst_then_steady_rate() {
        let mut p = Pacer::new(&limits(10.0, 4, 1000.0, 1000));
        let slots: Vec<_> = (0..6)
            .map(|i| {
                p.reserve(&format!("c{i}"), t0(), Duration::from_secs(10))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            &slots[..3],
            &[t0(), t0(), t0()],
            "the burst, less one kept in hand, goes at once"
        );
        assert_eq!(slots[3], t0() + chrono::Duration::milliseconds(100));
        assert_eq!(slots[5], t0() + chrono::Duration::milliseconds(300));
    }

    #[test]
    fn a_slow_destination_does_not_slow_the_others() {
        let mut p = Pacer::new(&limits(100.0, 100, 1.0 / 6.0, 1));
        assert_eq!(p.reserve("alice", t0(), Duration::from_secs(1)), Ok(t0()));
        let next = p
            .reserve("alice", t0(), Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(
            next,
            t0() + chrono::Duration::seconds(6),
            "nothing reserved past max_wait"
        );
        assert_eq!(p.reserve("bob", t0(), Duration::from_secs(1)), Ok(t0()));
        assert_eq!(p.earliest("alice", t0()), next);
    }

    #[test]
    fn every_call_takes_its_turn_and_extra_ones_move_later_slots_back() {
        // 20 a minute in a chat, no burst: one call every 3 s.
        let mut p = Pacer::new(&limits(30.0, 30, 20.0 / 60.0, 1));
        let s = |n: i64| t0() + chrono::Duration::seconds(n);
        // A message in its slot at 0 s makes a topic, then posts, pins and writes: three more.
        assert_eq!(p.reserve("g", t0(), Duration::from_secs(60)), Ok(s(0)));
        assert_eq!(p.turn("g", false, s(0)), Ok(()));
        assert_eq!(p.turn("g", true, s(0)), Err(s(3)));
        assert_eq!(p.turn("g", true, s(3)), Ok(()));
        assert_eq!(p.turn("g", true, s(5)), Err(s(6)));
        assert_eq!(p.turn("g", true, s(6)), Ok(()));
        assert_eq!(p.turn("g", true, s(9)), Ok(()));
        p.went("g", s(0), s(9));
        // The next message's slot comes after the four calls.
        assert_eq!(p.earliest("g", s(9)), s(12));
        assert_eq!(p.turn("g", false, s(12)), Ok(()));
        assert_eq!(
            p.turn("other", false, s(12)),
            Ok(()),
            "other chats are not held"
        );
        assert_eq!(p.earliest("other", s(12)), s(12));
    }

    #[test]
    fn a_pause_holds_everything_until_it_ends() {
        let mut p = Pacer::new(&limits(100.0, 100, 100.0, 100));
        let until = t0() + chrono::Duration::seconds(2);
        p.pause(PauseScope::Account, until);
        assert_eq!(p.paused_until("x", &[], t0()), Some(until));
        assert_eq!(p.earliest("x", t0()), until);
        assert_eq!(p.paused_until("x", &[], until), None);
    }

    #[test]
    fn a_scoped_pause_holds_only_what_it_covers() {
        let mut p = Pacer::new(&limits(100.0, 100, 100.0, 100));
        let until = t0() + chrono::Duration::seconds(30);
        p.pause(
            PauseScope::MethodInChat {
                method: "chat.postMessage",
                chat: "C1".into(),
            },
            until,
        );
        let post = ["chat.postMessage"];
        assert_eq!(p.paused_until("C1", &post, t0()), Some(until));
        assert_eq!(p.paused_until("C2", &post, t0()), None, "another channel");
        assert_eq!(
            p.paused_until("C1", &["chat.postEphemeral"], t0()),
            None,
            "another method"
        );
        assert_eq!(p.earliest("C2", t0()), t0());

        p.pause(PauseScope::Chat("42".into()), until);
        assert_eq!(p.paused_until("42", &[], t0()), Some(until));
        assert_eq!(p.paused_until("43", &[], t0()), None);
        assert!(
            p.earliest("42", t0()) >= until,
            "the chat's own slots move too"
        );
        assert_eq!(p.earliest("43", t0()), t0());
    }

    #[test]
    fn a_late_message_pushes_the_next_back() {
        // Burst 2: one in hand, so the schedule is one message every 100 ms from the start.
        let mut p = Pacer::new(&limits(10.0, 2, 1000.0, 1000));
        let ms = chrono::Duration::milliseconds;
        assert_eq!(p.reserve("a", t0(), Duration::ZERO), Ok(t0()));
        // It actually went 30 ms late: the next slot counts from then, not from its slot.
        p.went("a", t0() + ms(30), t0() + ms(31));
        assert_eq!(p.earliest("b", t0()), t0() + ms(130));
        assert_eq!(
            p.floor(),
            None,
            "with a burst above 1 no floor holds reserved slots"
        );
    }

    #[test]
    fn with_a_burst_of_one_each_message_waits_for_the_previous_answer() {
        let mut p = Pacer::new(&limits(80.0, 1, 1000.0, 1000));
        assert!(p.strict());
        let ms = chrono::Duration::microseconds;
        let first = p.reserve("a", t0(), Duration::from_secs(1)).unwrap();
        let second = p.reserve("b", t0(), Duration::from_secs(1)).unwrap();
        assert_eq!((first, second), (t0(), t0() + ms(12_500)));
        // The first left 8 ms late and was answered 1 ms later: the second may not leave on its
        // reserved slot, only one interval after that answer.
        p.went("a", t0() + ms(8_000), t0() + ms(9_000));
        assert_eq!(p.floor(), Some(t0() + ms(21_500)));
        assert_eq!(p.earliest("c", t0()), t0() + ms(25_000));
    }

    #[test]
    fn shares_divide_the_account_limit() {
        let mut p = Pacer::new(&limits(20.0, 4, 1000.0, 1000));
        assert!(!p.set_share(1));
        assert!(p.set_share(2));
        assert_eq!(p.share(), 2);
        // 10/s and a burst of 2 (one in hand): one now, then one every 100 ms.
        let slots: Vec<_> = (0..3)
            .map(|i| {
                p.reserve(&format!("c{i}"), t0(), Duration::from_secs(1))
                    .unwrap()
            })
            .collect();
        let ms = chrono::Duration::milliseconds;
        assert_eq!(slots, vec![t0(), t0() + ms(100), t0() + ms(200)]);
    }
}
