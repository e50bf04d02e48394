//! The `lovable_patterns` feature flags: `models.yaml` settings, environment overrides and
//! stable per-session rollout.

use xxhash_rust::xxh3::xxh3_64;

use crate::config::{ConfigError, FlagConfig, PatternsConfig};

/// One resolved flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// The flag's key in `models.yaml` (also salts the rollout hash).
    pub key: &'static str,
    /// The environment variable that overrides it.
    pub env: &'static str,
    /// `enabled` from `models.yaml`.
    pub enabled: bool,
    /// `rollout_percent` from `models.yaml`.
    pub rollout_percent: u8,
    /// The environment override, when set: on or off for every session.
    pub forced: Option<bool>,
}

impl Flag {
    /// Whether the flag is on for a session.
    ///
    /// The environment variable wins; otherwise the flag must be `enabled` and the session
    /// must fall in the rollout slice: `rollout_bucket(key, session) < rollout_percent`.
    /// Raising the percentage only adds sessions (10% ⊂ 50% ⊂ 100%). A call without a
    /// session id gets the flag only at 100%.
    pub fn is_on(&self, session_id: Option<&str>) -> bool {
        if let Some(forced) = self.forced {
            return forced;
        }
        if !self.enabled {
            return false;
        }
        match session_id {
            _ if self.rollout_percent >= 100 => true,
            Some(id) => rollout_bucket(self.key, id) < self.rollout_percent,
            None => false,
        }
    }

    fn resolve(
        key: &'static str,
        env_name: &'static str,
        cfg: FlagConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let forced = match env(env_name) {
            None => None,
            Some(v) => Some(
                parse_bool(&v)
                    .ok_or_else(|| ConfigError::BadEnv { name: env_name.to_owned(), value: v.clone() })?,
            ),
        };
        Ok(Self {
            key,
            env: env_name,
            enabled: cfg.enabled,
            rollout_percent: cfg.rollout_percent.get(),
            forced,
        })
    }
}

/// The session's stable bucket, 0..100, for a flag: the XXH3-64 hash (seed 0) of
/// `flag_key`, a NUL byte and the session id, modulo 100. XXH3 is specified and its output
/// is the same on every platform and release, so a session keeps its slice across
/// restarts, hosts and Kiln versions; salting with the flag key keeps the slices of
/// different flags independent.
pub fn rollout_bucket(flag_key: &str, session_id: &str) -> u8 {
    let mut input = Vec::with_capacity(flag_key.len() + 1 + session_id.len());
    input.extend_from_slice(flag_key.as_bytes());
    input.push(0);
    input.extend_from_slice(session_id.as_bytes());
    u8::try_from(xxh3_64(&input) % 100).expect("below 100")
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The three flags, resolved against the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// `p1_dynamic_retry_delays` / `LOVABLE_DYNAMIC_RETRY_DELAYS`.
    pub dynamic_retry: Flag,
    /// `p2_fallback_chain` / `LOVABLE_FALLBACK_CHAIN`.
    pub fallback_chain: Flag,
    /// `p2_conversation_state` / `LOVABLE_CONVERSATION_STATE`.
    pub conversation_state: Flag,
}

impl Flags {
    /// Resolves the flags from `models.yaml` and the environment (`env(name)` returns a
    /// variable's value). An environment variable set to true/false (also 1/0, yes/no,
    /// on/off) overrides the file for every session; anything else is an error.
    pub fn resolve(
        patterns: &PatternsConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            dynamic_retry: Flag::resolve(
                "p1_dynamic_retry_delays",
                "LOVABLE_DYNAMIC_RETRY_DELAYS",
                patterns.p1_dynamic_retry_delays,
                env,
            )?,
            fallback_chain: Flag::resolve(
                "p2_fallback_chain",
                "LOVABLE_FALLBACK_CHAIN",
                patterns.p2_fallback_chain.as_flag(),
                env,
            )?,
            conversation_state: Flag::resolve(
                "p2_conversation_state",
                "LOVABLE_CONVERSATION_STATE",
                patterns.p2_conversation_state,
                env,
            )?,
        })
    }

    /// Resolves against the process environment.
    pub fn from_env(patterns: &PatternsConfig) -> Result<Self, ConfigError> {
        Self::resolve(patterns, &|name| std::env::var(name).ok())
    }

    /// Whether dynamic retry delays are on for the session.
    pub fn dynamic_retry(&self, session_id: Option<&str>) -> bool {
        self.dynamic_retry.is_on(session_id)
    }

    /// Whether the fallback chain is on for the session.
    pub fn fallback_chain(&self, session_id: Option<&str>) -> bool {
        self.fallback_chain.is_on(session_id)
    }

    /// Whether conversation state is on for the session (read by the builder).
    pub fn conversation_state(&self, session_id: Option<&str>) -> bool {
        self.conversation_state.is_on(session_id)
    }

    /// All three, for listing.
    pub fn all(&self) -> [Flag; 3] {
        [self.dynamic_retry, self.fallback_chain, self.conversation_state]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FallbackFlagConfig, Percent};

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn patterns(percent: i64) -> PatternsConfig {
        let p = Percent::try_from(percent).expect("percent");
        PatternsConfig {
            p1_dynamic_retry_delays: FlagConfig { enabled: true, rollout_percent: p },
            p2_conversation_state: FlagConfig { enabled: false, rollout_percent: p },
            p2_fallback_chain: FallbackFlagConfig { rollout_percent: p, ..Default::default() },
        }
    }

    #[test]
    fn rollout_slices_are_close_to_the_percent_stable_and_nested() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("session-{i}")).collect();
        let mut previous: Option<Vec<bool>> = None;
        for percent in [0, 10, 50, 100] {
            let flags = Flags::resolve(&patterns(percent), &no_env).expect("flags");
            let on: Vec<bool> = ids.iter().map(|id| flags.dynamic_retry(Some(id))).collect();
            let count = on.iter().filter(|b| **b).count();
            let share = count as f64 / 100.0;
            assert!((share - percent as f64).abs() <= 2.0, "{percent}%: got {share}%");
            // Stable: the same answer again.
            let again: Vec<bool> = ids.iter().map(|id| flags.dynamic_retry(Some(id))).collect();
            assert_eq!(on, again);
            // Nested: a session in the smaller slice stays in the larger one.
            if let Some(prev) = previous {
                assert!(
                    prev.iter().zip(&on).all(|(a, b)| !a || *b),
                    "{percent}% does not contain the smaller slice"
                );
            }
            previous = Some(on);
        }
    }

    #[test]
    fn the_hash_is_fixed_across_releases() {
        // XXH3-64 of "p2_fallback_chain\0abc" is a published algorithm's output: if this
        // changes, sessions would move between slices.
        assert_eq!(
            rollout_bucket("p2_fallback_chain", "abc"),
            (xxh3_64(b"p2_fallback_chain\0abc") % 100) as u8
        );
        assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
        // Different flags slice differently.
        let ids = (0..1000).map(|i| i.to_string());
        let same = ids.filter(|id| rollout_bucket("a", id) == rollout_bucket("b", id)).count();
        assert!(same < 50, "{same}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |name: &str| match name {
            "LOVABLE_DYNAMIC_RETRY_DELAYS" => Some("false".to_owned()),
            "LOVABLE_CONVERSATION_STATE" => Some("TRUE".to_owned()),
            _ => None,
        };
        let flags = Flags::resolve(&patterns(100), &env).expect("flags");
        assert!(!flags.dynamic_retry(Some("s")));
        assert!(flags.conversation_state(Some("s")), "env on beats enabled: false");
        assert!(flags.fallback_chain(None));
        let bad = |name: &str| (name == "LOVABLE_FALLBACK_CHAIN").then(|| "maybe".to_owned());
        let e = Flags::resolve(&patterns(100), &bad).expect_err("bad value");
        assert!(e.to_string().contains("LOVABLE_FALLBACK_CHAIN"), "{e}");
        for (v, b) in [("1", true), ("yes", true), ("on", true), ("0", false), ("no", false), ("off", false)]
        {
            assert_eq!(parse_bool(v), Some(b));
        }
        let _ = Flags::from_env(&PatternsConfig::default());
    }

    #[test]
    fn without_a_session_only_full_rollout_applies() {
        let flags = Flags::resolve(&patterns(99), &no_env).expect("flags");
        assert!(!flags.dynamic_retry(None));
        let full = Flags::resolve(&patterns(100), &no_env).expect("flags");
        assert!(full.dynamic_retry(None));
        assert!(!full.conversation_state(None), "disabled in the file");
        assert_eq!(
            full.all().map(|f| f.key),
            ["p1_dynamic_retry_delays", "p2_fallback_chain", "p2_conversation_state"]
        );
    }
}
