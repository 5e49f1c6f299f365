//! Admission control for a client that runs many calls at once (a batch): each endpoint gets a
//! limit on the attempts in flight that adapts to what the service says (AIMD), and a pause
//! shared by every call to it when the service asks for one.
//!
//! What the services send, and what this makes of it:
//! - A 429 means a deployment's requests-per-minute or tokens-per-minute limit was crossed
//!   (https://learn.microsoft.com/en-us/microsoft-cloud/dev/dev-proxy/concepts/azure-openai-429-token-rate-limit),
//!   with `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation
//!   under Azure OpenAI API version … have exceeded … rate limit of your current … pricing tier.
//!   Please retry after N seconds. …"}}`. It cuts the limit (×0.9).
//! - `retry-after-ms` (then `retry-after`, seconds) says how long to wait; Microsoft's own load
//!   tool reads them in that order (Azure/azure-openai-benchmark, benchmark/oairequester.py), as
//!   [`crate::retry::retry_after`] does (with `x-ms-retry-after-ms`). The wait holds back every
//!   new attempt to that endpoint, not only the throttled one: the others would be refused too.
//! - `x-ratelimit-remaining-requests` / `x-ratelimit-remaining-tokens` come with each answer and
//!   say how many requests and tokens the caller may still send before a 429
//!   (https://clemenssiebler.com/posts/understanding-azure-openai-x-ratelimit-remaining-tokens-x-ratelimit-remaining-requests-headers/).
//!   Azure evaluates its rates over short windows, "typically 1 or 10 seconds"
//!   (https://learn.microsoft.com/azure/ai-services/openai/how-to/quota, "Understanding rate
//!   limits"), so the numbers refill within seconds. Remaining requests below the limit stop it
//!   from growing and hold the attempts in flight to that many (never below one, so an answer
//!   keeps coming that says when the window refilled). Remaining tokens at 0 pause the endpoint
//!   for 1 s, the shortest window: the next request would only earn a 429, and a 429 without
//!   `retry-after` would leave the wait to each call's own back-off. Negative values are
//!   ignored: some Azure APIs send `-1` for a limit they do not track
//!   (https://github.com/openai/openai-dotnet/issues/838).
//!
//! The limit starts at [`Admission::initial`]. Until the first 429 it grows by one per success
//! of an attempt that found every place taken (doubling per round trip, as TCP's slow start),
//! from then on by one per window of `limit` such successes; a 429 cuts it once per window (the
//! 429s of attempts sent before the last cut do not cut again) to 9/10 (at least one less), or
//! to the attempts that were in flight beside the refused one when it was sent if that is lower,
//! but never below half. The second rule is for bursts: with a fixed latency the answers of a
//! round trip come together, slow start sends a whole window more before the first 429 is back,
//! and 9/10 steps would take a 429 per step to come down. Near the level the service refused
//! last, growth waits [`PLATEAU_WINDOWS`] windows before it probes again, so a limit that found
//! the service's capacity stays there instead of earning a 429 every other window. Successes
//! with places to spare teach nothing and do not count.
//!
//! Other failures (5xx, timeouts, broken connections) neither grow nor cut the limit: they say
//! nothing about the rate the deployment takes, and the retry policy already spaces them out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;
use url::Url;

/// How many attempts a client lets run at once to one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    initial: u32,
    max: u32,
}

impl Admission {
    /// Start each endpoint at `initial` attempts in flight, grow while they succeed, never above
    /// `max`; a 429 cuts it. A fixed concurrency N is `adaptive(N, N)`: it starts at N and only
    /// goes down when the service throttles. Both are at least 1, and `initial` at most `max`.
    pub fn adaptive(initial: u32, max: u32) -> Self {
        let max = max.max(1);
        Self {
            initial: initial.clamp(1, max),
            max,
        }
    }

    pub fn initial(&self) -> u32 {
        self.initial
    }

    pub fn max(&self) -> u32 {
        self.max
    }
}

/// One endpoint as the limiter sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointLoad {
    /// Scheme, host and port, and the deployment or model when the call names one; never a
    /// query string (a key may travel there) nor user info.
    pub endpoint: String,
    /// Attempts it may have in flight.
    pub limit: u32,
    pub in_flight: u32,
    /// 429s it answered so far.
    pub throttled: u64,
    /// How long new attempts still wait because the service asked for a pause (0: none).
    pub paused_ms: u64,
}

/// The endpoints one client calls, each with its own gate, created on first use.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    admission: Admission,
    gates: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
}

impl Limiter {
    pub(crate) fn new(admission: Admission) -> Self {
        Self {
            admission,
            gates: Arc::default(),
        }
    }

    /// Waits until `endpoint` admits one more attempt (and is not paused), and takes its permit.
    pub(crate) async fn acquire(&self, endpoint: &str) -> Permit {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
            gates
                .entry(endpoint.to_owned())
                .or_insert_with(|| Arc::new(Gate::new(self.admission)))
                .clone()
        };
        gate.acquire().await
    }

    /// Every endpoint called so far, by name.
    pub(crate) fn load(&self) -> Vec<EndpointLoad> {
        let gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut load: Vec<EndpointLoad> = gates
            .iter()
            .map(|(endpoint, gate)| {
                let state = gate.lock();
                EndpointLoad {
                    endpoint: endpoint.clone(),
                    limit: state.limit,
                    in_flight: state.in_flight,
                    throttled: state.throttled,
                    paused_ms: state.paused_until.map_or(0, |until| {
                        u64::try_from(until.saturating_duration_since(now).as_millis())
                            .unwrap_or(u64::MAX)
                    }),
                }
            })
            .collect();
        load.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
        load
    }
}

/// The name an endpoint's gate goes by: the origin (scheme, host, port) and the deployment or
/// model the call targets: `model` when the body names it, else the `deployments/{name}` of an
/// Azure OpenAI deployment URL. Nothing else of the URL, so no query (SerpAPI's key rides there)
/// and no user info; a service without deployments (search, SerpAPI, HTTP) is one endpoint per
/// origin, as its rate limit is.
pub(crate) fn endpoint_key(url: &Url, model: Option<&str>) -> String {
    let origin = url.origin().ascii_serialization();
    let deployment = model.map(str::to_owned).or_else(|| {
        let mut segments = url.path_segments()?;
        segments.find(|segment| *segment == "deployments")?;
        segments
            .next()
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
    });
    match deployment {
        Some(name) => format!("{origin}/{name}"),
        None => origin,
    }
}

/// How long remaining tokens at 0 hold an endpoint back: Azure's shortest rate window.
const TOKENS_EXHAUSTED_PAUSE: Duration = Duration::from_secs(1);

/// Windows of successes a limit one below the level last refused waits before it probes that
/// level again.
const PLATEAU_WINDOWS: u32 = 4;

#[derive(Debug)]
struct Gate {
    max: u32,
    state: Mutex<State>,
    /// Wakes one waiter when there may be room: a permit came back or the cap rose. A waiter
    /// that takes a permit and still sees room wakes the next, so every free place finds one.
    turn: Notify,
}

#[derive(Debug)]
struct State {
    limit: u32,
    in_flight: u32,
    /// Successes since the limit last changed, of attempts answered while every place was taken.
    successes: u32,
    /// Cuts so far: a permit remembers the count when it was taken, so the 429s of attempts
    /// sent before a cut do not cut again.
    cuts: u64,
    throttled: u64,
    /// Attempts in flight, the refused one included, when the service last refused one.
    refused_at: Option<u32>,
    paused_until: Option<Instant>,
    /// The last `x-ratelimit-remaining-requests` the endpoint sent.
    remaining_requests: Option<u32>,
}

impl State {
    /// How many attempts may be in flight now.
    fn cap(&self) -> u32 {
        match self.remaining_requests {
            Some(remaining) => self.limit.min(remaining.max(1)),
            None => self.limit,
        }
    }

    fn pause(&mut self, wait: Duration) {
        let until = Instant::now() + wait;
        if self.paused_until.is_none_or(|paused| paused < until) {
            self.paused_until = Some(until);
        }
    }

    /// Takes the rate-limit headers of an answer; whether the cap rose.
    fn observe(&mut self, headers: &HeaderMap) -> bool {
        let before = self.cap();
        self.remaining_requests = count(headers, "x-ratelimit-remaining-requests");
        if count(headers, "x-ratelimit-remaining-tokens") == Some(0) {
            self.pause(TOKENS_EXHAUSTED_PAUSE);
        }
        self.cap() > before
    }
}

/// A header holding a count; `None` when absent, not a number, or negative.
fn count(headers: &HeaderMap, name: &str) -> Option<u32> {
    let value: i64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    u32::try_from(value.min(i64::from(u32::MAX))).ok()
}

impl Gate {
    fn new(admission: Admission) -> Self {
        Self {
            max: admission.max,
            state: Mutex::new(State {
                limit: admission.initial,
                in_flight: 0,
                successes: 0,
                cuts: 0,
                throttled: 0,
                refused_at: None,
                paused_until: None,
                remaining_requests: None,
            }),
            turn: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn acquire(self: Arc<Self>) -> Permit {
        let mut turn = Turn {
            notify: &self.turn,
            held: false,
        };
        loop {
            let notified = self.turn.notified();
            tokio::pin!(notified);
            let paused = {
                let mut state = self.lock();
                let now = Instant::now();
                match state.paused_until.filter(|until| *until > now) {
                    Some(until) => Some(until),
                    None if state.in_flight < state.cap() => {
                        let beside = state.in_flight;
                        state.in_flight += 1;
                        let room = state.in_flight < state.cap();
                        let cuts = state.cuts;
                        drop(state);
                        turn.held = false;
                        if room {
                            self.turn.notify_one();
                        }
                        return Permit {
                            gate: self.clone(),
                            cuts,
                            beside,
                        };
                    }
                    None => {
                        // Registered before the lock goes, so a permit coming back in between
                        // still wakes this waiter.
                        notified.as_mut().enable();
                        None
                    }
                }
            };
            match paused {
                Some(until) => tokio::time::sleep_until(until).await,
                None => {
                    // Every place is taken, and each comes back with a wake-up of its own.
                    turn.held = false;
                    notified.await;
                    turn.held = true;
                }
            }
        }
    }

    fn release(&self) {
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.turn.notify_one();
    }

    fn answered(&self, headers: &HeaderMap) {
        let rose = {
            let mut state = self.lock();
            let mut rose = state.observe(headers);
            // Only an endpoint that used its whole limit learns that it could take more: with
            // fewer calls than places (a batch's last rows) the limit would otherwise climb
            // without anything testing it, and the next burst would meet a wall of 429s.
            if state.in_flight >= state.limit {
                state.successes += 1;
            }
            // Until the first cut every such success adds one (the limit doubles per window: a
            // moderate start reaches the deployment's rate in a few round trips); after it, a
            // whole window of them does.
            let window = match state.refused_at {
                _ if state.cuts == 0 => 1,
                Some(refused) if state.limit + 1 == refused => state.limit * PLATEAU_WINDOWS,
                _ => state.limit,
            };
            if state.successes >= window {
                state.successes = 0;
                let room_left = state.remaining_requests.is_none_or(|r| r >= state.limit);
                if room_left && state.limit < self.max {
                    state.limit += 1;
                    rose = true;
                }
            }
            rose
        };
        if rose {
            self.turn.notify_one();
        }
    }

    /// An attempt sent after `sent_after_cuts` cuts, beside `beside` others, got a 429.
    fn throttled(
        &self,
        sent_after_cuts: u64,
        beside: u32,
        headers: &HeaderMap,
        wait: Option<Duration>,
    ) {
        let rose = {
            let mut state = self.lock();
            state.throttled += 1;
            if sent_after_cuts == state.cuts {
                let tenth_off = state.limit * 9 / 10;
                state.limit = tenth_off.min(beside).max(state.limit / 2).max(1);
                state.refused_at = Some(beside + 1);
                state.cuts += 1;
                state.successes = 0;
            }
            if let Some(wait) = wait {
                state.pause(wait);
            }
            state.observe(headers)
        };
        if rose {
            self.turn.notify_one();
        }
    }
}

/// A wake-up a waiter took and has not used: if the wait is dropped (the call cancelled) while
/// holding one, it goes to the next waiter, so no free place is left without one.
struct Turn<'a> {
    notify: &'a Notify,
    held: bool,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.held {
            self.notify.notify_one();
        }
    }
}

/// One attempt's place at its endpoint, given back when dropped: after the answer was read
/// (for a stream, when it ended or was dropped), or at once on a failure, so back-off sleeps
/// hold none.
#[derive(Debug)]
pub(crate) struct Permit {
    gate: Arc<Gate>,
    cuts: u64,
    /// Attempts in flight to the endpoint when this one was sent.
    beside: u32,
}

impl Permit {
    /// The attempt got a 2xx head.
    pub(crate) fn answered(&self, headers: &HeaderMap) {
        self.gate.answered(headers);
    }

    /// The attempt got a 429; `wait` is what its headers ask for.
    pub(crate) fn throttled(&self, headers: &HeaderMap, wait: Option<Duration>) {
        self.gate.throttled(self.cuts, self.beside, headers, wait);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::collections::VecDeque;

    const KEY: &str = "https://res.openai.azure.com/gpt";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn limit(limiter: &Limiter) -> u32 {
        limiter.load()[0].limit
    }

    /// Takes `n` permits, each of which must be granted at once.
    async fn take(limiter: &Limiter, n: usize) -> Vec<Permit> {
        let mut permits = Vec::new();
        for _ in 0..n {
            let permit = tokio::time::timeout(Duration::from_millis(1), limiter.acquire(KEY))
                .await
                .expect("a permit within the limit is granted at once");
            permits.push(permit);
        }
        permits
    }

    /// Whether one more permit is granted within 1 ms (time is paused: nothing else moves it).
    async fn admits(limiter: &Limiter) -> bool {
        tokio::time::timeout(Duration::from_millis(1), limiter.acquire(KEY))
            .await
            .is_ok()
    }

    #[test]
    fn the_admission_is_clamped() {
        assert_eq!(Admission::adaptive(0, 0), Admission::adaptive(1, 1));
        let admission = Admission::adaptive(50, 8);
        assert_eq!((admission.initial(), admission.max()), (8, 8));
    }

    #[tokio::test(start_paused = true)]
    async fn holds_attempts_to_the_limit_and_hands_a_place_back_on_drop() {
        let limiter = Limiter::new(Admission::adaptive(3, 10));
        let mut permits = take(&limiter, 3).await;
        assert!(!admits(&limiter).await);
        assert_eq!(limiter.load()[0].in_flight, 3);
        let waiter = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire(KEY).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        permits.pop();
        let permit = tokio::time::timeout(Duration::from_millis(1), waiter)
            .await
            .expect("the freed place goes to the waiter")
            .unwrap();
        assert_eq!(limiter.load()[0].in_flight, 3);
        drop(permit);
        drop(permits);
        assert_eq!(limiter.load()[0].in_flight, 0);
    }

    /// Keeps every place of the endpoint taken while `answers` attempts, oldest first, get a
    /// 2xx and end: the shape of a batch with more rows waiting than places.
    async fn saturated(limiter: &Limiter, held: &mut VecDeque<Permit>, answers: usize) {
        fill(limiter, held).await;
        for _ in 0..answers {
            let permit = held.pop_front().unwrap();
            permit.answered(&HeaderMap::new());
            drop(permit);
            fill(limiter, held).await;
        }
    }

    /// Takes places until none is left.
    async fn fill(limiter: &Limiter, held: &mut VecDeque<Permit>) {
        while let Ok(permit) =
            tokio::time::timeout(Duration::from_millis(1), limiter.acquire(KEY)).await
        {
            held.push_back(permit);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn grows_by_one_per_success_until_a_429_then_by_one_per_window() {
        let limiter = Limiter::new(Admission::adaptive(2, 64));
        let mut held = VecDeque::new();
        saturated(&limiter, &mut held, 6).await;
        assert_eq!(limit(&limiter), 8);
        assert_eq!(held.len(), 8);
        held.pop_back().unwrap().throttled(&HeaderMap::new(), None);
        assert_eq!(limit(&limiter), 7);
        fill(&limiter, &mut held).await;
        // One below the level refused (8): the probe waits PLATEAU_WINDOWS windows of 7.
        saturated(&limiter, &mut held, 27).await;
        assert_eq!(limit(&limiter), 7);
        saturated(&limiter, &mut held, 1).await;
        assert_eq!(limit(&limiter), 8);
        saturated(&limiter, &mut held, 8).await;
        assert_eq!(limit(&limiter), 9);
        assert_eq!(held.len(), 9);
    }

    #[tokio::test(start_paused = true)]
    async fn never_grows_past_max() {
        let limiter = Limiter::new(Admission::adaptive(4, 6));
        let mut held = VecDeque::new();
        saturated(&limiter, &mut held, 20).await;
        assert_eq!(limit(&limiter), 6);
        assert_eq!(held.len(), 6);
        assert!(!admits(&limiter).await);
    }

    #[tokio::test(start_paused = true)]
    async fn successes_with_places_to_spare_do_not_grow_the_limit() {
        let limiter = Limiter::new(Admission::adaptive(4, 64));
        let none = HeaderMap::new();
        // Three at a time under a limit of four, many times over.
        for _ in 0..3 {
            let permits = take(&limiter, 3).await;
            for permit in &permits {
                permit.answered(&none);
            }
        }
        assert_eq!(limit(&limiter), 4);
        let permits = take(&limiter, 4).await;
        for permit in &permits {
            permit.answered(&none);
        }
        assert_eq!(limit(&limiter), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_cuts_by_a_tenth_once_per_window_and_never_below_one() {
        let limiter = Limiter::new(Admission::adaptive(20, 64));
        let none = HeaderMap::new();
        let permits = take(&limiter, 20).await;
        // Every attempt sent before the cut is refused: one cut, not twenty. The last one sent
        // had 19 beside it, so the cut is the tenth.
        for permit in permits.iter().rev() {
            permit.throttled(&none, None);
        }
        assert_eq!(limit(&limiter), 18);
        assert_eq!(limiter.load()[0].throttled, 20);
        drop(permits);
        // An attempt sent after the cut, beside a full limit less one, cuts again.
        let mut permits = take(&limiter, 18).await;
        permits.pop().unwrap().throttled(&none, None);
        assert_eq!(limit(&limiter), 16);
        drop(permits);
        // Refused with nothing beside it: halved, never below one.
        for expected in [8, 4, 2, 1, 1] {
            take(&limiter, 1).await[0].throttled(&none, None);
            assert_eq!(limit(&limiter), expected);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_restarts_the_window_of_successes() {
        let limiter = Limiter::new(Admission::adaptive(10, 64));
        let none = HeaderMap::new();
        take(&limiter, 10).await[9].throttled(&none, None);
        assert_eq!(limit(&limiter), 9);
        let permits = take(&limiter, 9).await;
        for permit in &permits[..8] {
            permit.answered(&none);
        }
        permits[8].throttled(&none, None);
        assert_eq!(limit(&limiter), 8);
        drop(permits);
        // The eight successes before the cut do not count towards the next window (of
        // PLATEAU_WINDOWS × 8: one below the level refused, 9).
        let permits = take(&limiter, 8).await;
        for _ in 0..PLATEAU_WINDOWS * 8 - 1 {
            permits[0].answered(&none);
        }
        assert_eq!(limit(&limiter), 8);
        permits[7].answered(&none);
        assert_eq!(limit(&limiter), 9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_past_what_the_service_admits_comes_down_in_one_cut() {
        // The service takes 16 at once. A round trip of 16 answers arriving together grows the
        // limit to 32 in slow start before the first 429 is back.
        let limiter = Limiter::new(Admission::adaptive(16, 64));
        let none = HeaderMap::new();
        let mut held = VecDeque::new();
        saturated(&limiter, &mut held, 16).await;
        assert_eq!(limit(&limiter), 32);
        // The first attempt sent beside 16 others is the first the service refuses; the others
        // past it were sent before the cut and do not cut again.
        let first = held.iter().position(|p| p.beside == 16).unwrap();
        held.remove(first).unwrap().throttled(&none, None);
        assert_eq!(limit(&limiter), 16, "down to what was in flight beside it");
        for permit in held.iter().filter(|p| p.beside > 16) {
            permit.throttled(&none, None);
        }
        assert_eq!(limit(&limiter), 16);
    }

    #[tokio::test(start_paused = true)]
    async fn a_limit_just_below_the_level_refused_waits_before_it_probes_again() {
        let limiter = Limiter::new(Admission::adaptive(17, 64));
        let none = HeaderMap::new();
        // Refused at 17 in flight: down to 15 (a tenth off).
        take(&limiter, 17).await[16].throttled(&none, None);
        assert_eq!(limit(&limiter), 15);
        let mut held = VecDeque::new();
        // Two below the level refused: one window of 15 grows it.
        saturated(&limiter, &mut held, 15).await;
        assert_eq!(limit(&limiter), 16);
        // One below: it stays for PLATEAU_WINDOWS windows, then probes 17.
        saturated(&limiter, &mut held, 16 * PLATEAU_WINDOWS as usize - 1).await;
        assert_eq!(limit(&limiter), 16);
        saturated(&limiter, &mut held, 1).await;
        assert_eq!(limit(&limiter), 17);
        // The probe was admitted: the service takes more now, and growth is one per window again.
        saturated(&limiter, &mut held, 17).await;
        assert_eq!(limit(&limiter), 18);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_the_endpoint_but_not_another() {
        let limiter = Limiter::new(Admission::adaptive(4, 4));
        let permit = take(&limiter, 1).await.remove(0);
        permit.throttled(&HeaderMap::new(), Some(Duration::from_millis(300)));
        drop(permit);
        assert_eq!(limiter.load()[0].paused_ms, 300);
        let started = Instant::now();
        let waiter = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire(KEY).await }
        });
        // Another endpoint is not held back.
        let other = tokio::time::timeout(
            Duration::from_millis(1),
            limiter.acquire("https://other.openai.azure.com/gpt"),
        )
        .await;
        assert!(other.is_ok());
        tokio::time::sleep(Duration::from_millis(299)).await;
        assert!(!waiter.is_finished());
        let _permit = waiter.await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        assert_eq!(limiter.load()[0].paused_ms, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_pause_does_not_shorten_a_longer_one() {
        let limiter = Limiter::new(Admission::adaptive(4, 4));
        let permits = take(&limiter, 2).await;
        permits[0].throttled(&HeaderMap::new(), Some(Duration::from_secs(2)));
        permits[1].throttled(&HeaderMap::new(), Some(Duration::from_millis(100)));
        assert_eq!(limiter.load()[0].paused_ms, 2000);
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_requests_hold_the_cap_and_stop_growth() {
        let limiter = Limiter::new(Admission::adaptive(4, 64));
        let two_left = headers(&[("x-ratelimit-remaining-requests", "2")]);
        let permits = take(&limiter, 4).await;
        for permit in &permits {
            permit.answered(&two_left);
        }
        // A whole window of successes, but the service has room for two: no growth.
        assert_eq!(limit(&limiter), 4);
        drop(permits);
        let held = take(&limiter, 2).await;
        assert!(!admits(&limiter).await);
        // Nothing left still lets one attempt through, to learn when the window refills.
        held[0].answered(&headers(&[("x-ratelimit-remaining-requests", "0")]));
        drop(held);
        let one = take(&limiter, 1).await;
        assert!(!admits(&limiter).await);
        // The window refilled: the cap rises, and a waiter is let in at once.
        let waiter = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire(KEY).await }
        });
        tokio::task::yield_now().await;
        one[0].answered(&headers(&[("x-ratelimit-remaining-requests", "19")]));
        assert!(
            tokio::time::timeout(Duration::from_millis(1), waiter)
                .await
                .is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_tokens_left_pauses_for_a_second_and_minus_one_is_ignored() {
        let limiter = Limiter::new(Admission::adaptive(4, 64));
        let permit = take(&limiter, 1).await.remove(0);
        permit.answered(&headers(&[
            ("x-ratelimit-remaining-tokens", "-1"),
            ("x-ratelimit-remaining-requests", "-1"),
        ]));
        assert_eq!(limiter.load()[0].paused_ms, 0);
        assert_eq!(take(&limiter, 3).await.len(), 3);
        permit.answered(&headers(&[("x-ratelimit-remaining-tokens", "0")]));
        assert_eq!(limiter.load()[0].paused_ms, 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_passes_its_wake_up_on() {
        let limiter = Limiter::new(Admission::adaptive(1, 1));
        let permit = take(&limiter, 1).await.remove(0);
        let first = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire(KEY).await }
        });
        tokio::task::yield_now().await;
        let second = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire(KEY).await }
        });
        tokio::task::yield_now().await;
        // The first waiter is woken by the returned permit, and then cancelled before it runs.
        drop(permit);
        first.abort();
        let granted = tokio::time::timeout(Duration::from_millis(1), second).await;
        assert!(
            matches!(granted, Ok(Ok(_))),
            "the second waiter got the place"
        );
    }

    #[test]
    fn the_key_is_the_origin_and_the_deployment_never_the_query() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            endpoint_key(
                &url("https://res.openai.azure.com/openai/v1/chat/completions"),
                Some("gpt-4o")
            ),
            "https://res.openai.azure.com/gpt-4o"
        );
        assert_eq!(
            endpoint_key(
                &url(
                    "https://res.openai.azure.com/openai/deployments/mini/chat/completions?api-version=2024-10-21"
                ),
                None
            ),
            "https://res.openai.azure.com/mini"
        );
        assert_eq!(
            endpoint_key(
                &url("https://user:pw@serpapi.com/search?api_key=s3cret&q=x"),
                None
            ),
            "https://serpapi.com"
        );
        assert_eq!(
            endpoint_key(&url("http://127.0.0.1:8080/models/chat/completions"), None),
            "http://127.0.0.1:8080"
        );
    }
}
