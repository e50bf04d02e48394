//! The builder's phases and the explicit table of allowed transitions (SPEC §2.2). Every
//! phase change goes through [`check`]; the Mermaid diagram in the docs is generated from
//! the same table by [`mermaid`].

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use kiln_wire::builder::Phase;

/// Why a transition happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The first message of the session.
    FirstMessage,
    /// A needed integration is not connected.
    NeedsOauth,
    /// The last pending connection completed (or was dropped).
    OauthDone,
    /// Integrations and trigger are known.
    GoalUnderstood,
    /// The person confirmed the requirements summary.
    RequirementsConfirmed,
    /// A valid draft exists.
    DraftReady,
    /// Drafting failed; the requirements need another look.
    DraftFailed,
    /// The person accepted the dry run.
    DraftAccepted,
    /// The person asked for a change (a new iteration).
    ChangeRequested,
    /// The person confirmed activation.
    Activated,
    /// The person said "back".
    Back,
    /// The person confirmed "start over".
    StartOver,
}

impl Cause {
    /// Every cause.
    pub const ALL: [Cause; 12] = [
        Cause::FirstMessage,
        Cause::NeedsOauth,
        Cause::OauthDone,
        Cause::GoalUnderstood,
        Cause::RequirementsConfirmed,
        Cause::DraftReady,
        Cause::DraftFailed,
        Cause::DraftAccepted,
        Cause::ChangeRequested,
        Cause::Activated,
        Cause::Back,
        Cause::StartOver,
    ];

    /// The wire name, e.g. `first_message`.
    pub fn name(self) -> &'static str {
        match self {
            Cause::FirstMessage => "first_message",
            Cause::NeedsOauth => "needs_oauth",
            Cause::OauthDone => "oauth_done",
            Cause::GoalUnderstood => "goal_understood",
            Cause::RequirementsConfirmed => "requirements_confirmed",
            Cause::DraftReady => "draft_ready",
            Cause::DraftFailed => "draft_failed",
            Cause::DraftAccepted => "draft_accepted",
            Cause::ChangeRequested => "change_requested",
            Cause::Activated => "activated",
            Cause::Back => "back",
            Cause::StartOver => "start_over",
        }
    }
}

use Cause::*;
use Phase::*;

/// Every allowed transition. "Start over" (any phase except IDLE -> IDLE) is listed too.
pub const TRANSITIONS: &[(Phase, Phase, Cause)] = &[
    (Idle, Discovery, FirstMessage),
    (Discovery, OauthFlow, NeedsOauth),
    (Discovery, Requirements, GoalUnderstood),
    (OauthFlow, Discovery, OauthDone),
    (OauthFlow, Requirements, OauthDone),
    (OauthFlow, Discovery, Back),
    (Requirements, OauthFlow, NeedsOauth),
    (Requirements, Generation, RequirementsConfirmed),
    (Requirements, Discovery, Back),
    (Generation, Testing, DraftReady),
    (Generation, Requirements, DraftFailed),
    (Testing, Activation, DraftAccepted),
    (Testing, Requirements, ChangeRequested),
    (Testing, Requirements, Back),
    (Activation, Complete, Activated),
    (Activation, Requirements, ChangeRequested),
    (Activation, Testing, Back),
    (Complete, Requirements, ChangeRequested),
    (Discovery, Idle, StartOver),
    (OauthFlow, Idle, StartOver),
    (Requirements, Idle, StartOver),
    (Generation, Idle, StartOver),
    (Testing, Idle, StartOver),
    (Activation, Idle, StartOver),
    (Complete, Idle, StartOver),
];

/// What a reply does to the conversation: the intent of a message. The rules or an LLM
/// propose one; only the moves [`moves`] allows in the phase are taken, and every phase
/// change they cause still goes through [`check`], so no move can skip a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    /// Yes to the pending question (build it, looks good, activate it).
    Confirm,
    /// No to the pending question.
    Refuse,
    /// Gives requirement values (a description, or the answer to the question asked).
    Answer,
    /// Corrects a value already given ("make it 8 instead").
    Change,
    /// Takes something out ("leave out the Teams bit").
    Remove,
    /// One step back.
    Back,
    /// Start again from nothing (asked to confirm first).
    StartOver,
    /// Where are we?
    Status,
    /// What can Kiln do?
    Help,
    /// Leave for now.
    Quit,
    /// Not about building an agent.
    OffTopic,
}

impl Move {
    /// Every move.
    pub const ALL: [Move; 11] = [
        Move::Confirm,
        Move::Refuse,
        Move::Answer,
        Move::Change,
        Move::Remove,
        Move::Back,
        Move::StartOver,
        Move::Status,
        Move::Help,
        Move::Quit,
        Move::OffTopic,
    ];

    /// The wire name, e.g. `start_over`.
    pub fn name(self) -> &'static str {
        match self {
            Move::Confirm => "confirm",
            Move::Refuse => "refuse",
            Move::Answer => "answer",
            Move::Change => "change",
            Move::Remove => "remove",
            Move::Back => "back",
            Move::StartOver => "start_over",
            Move::Status => "status",
            Move::Help => "help",
            Move::Quit => "quit",
            Move::OffTopic => "off_topic",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Move> {
        Move::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The moves a reply may make in `phase`; `confirming` says whether a yes/no question is
/// pending there (REQUIREMENTS asks "Shall I build it?" only once nothing is missing, so a
/// yes before that cannot start drafting).
pub fn moves(phase: Phase, confirming: bool) -> Vec<Move> {
    use Move::*;
    let mut out = match phase {
        Idle => vec![Answer],
        Discovery => vec![Answer, Change, Remove],
        OauthFlow => vec![Confirm, Refuse, Answer, Change, Remove],
        Requirements if confirming => vec![Confirm, Refuse, Answer, Change, Remove],
        Requirements => vec![Refuse, Answer, Change, Remove],
        Generation => vec![],
        Testing | Activation => vec![Confirm, Refuse, Change, Remove],
        Complete => vec![Change, Remove],
    };
    if phase != Idle {
        out.extend([Back, StartOver]);
    }
    out.extend([Status, Help, Quit, OffTopic]);
    out
}

/// A transition the table does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot go from {} to {} ({}): that step is not part of the builder's flow", from.name(), to.name(), cause.name())]
pub struct TransitionRefused {
    /// Where the session is.
    pub from: Phase,
    /// Where it was asked to go.
    pub to: Phase,
    /// Why.
    pub cause: Cause,
}

/// Checks a transition against [`TRANSITIONS`].
pub fn check(from: Phase, to: Phase, cause: Cause) -> Result<(), TransitionRefused> {
    if TRANSITIONS.contains(&(from, to, cause)) { Ok(()) } else { Err(TransitionRefused { from, to, cause }) }
}

/// Where "back" leads from `phase`, if anywhere.
pub fn back_target(phase: Phase) -> Option<Phase> {
    TRANSITIONS.iter().find(|(from, _, cause)| *from == phase && *cause == Back).map(|(_, to, _)| *to)
}

/// The state machine as a Mermaid `stateDiagram-v2`, generated from [`TRANSITIONS`]
/// ("start over" edges are folded into one note to keep the picture readable).
pub fn mermaid() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> IDLE\n");
    for (from, to, cause) in TRANSITIONS {
        if *cause == StartOver {
            continue;
        }
        out.push_str(&format!("    {} --> {}: {}\n", from.name(), to.name(), cause.name()));
    }
    out.push_str("    COMPLETE --> [*]\n");
    out.push_str("    note right of IDLE: start_over (confirmed) returns here from every phase\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_not_in_the_table_is_refused() {
        let mut allowed = 0;
        for from in Phase::ALL {
            for to in Phase::ALL {
                for cause in Cause::ALL {
                    let listed = TRANSITIONS.contains(&(from, to, cause));
                    match check(from, to, cause) {
                        Ok(()) => {
                            assert!(listed);
                            allowed += 1;
                        }
                        Err(e) => {
                            assert!(!listed);
                            assert!(e.to_string().contains(from.name()) && e.to_string().contains(to.name()));
                        }
                    }
                }
            }
        }
        assert_eq!(allowed, TRANSITIONS.len());
    }

    #[test]
    fn names_round_trip_and_back_targets_exist() {
        for p in Phase::ALL {
            assert_eq!(Phase::from_name(p.name()), Some(p));
        }
        assert_eq!(back_target(Testing), Some(Requirements));
        assert_eq!(back_target(Idle), None);
        assert_eq!(back_target(Complete), None);
        assert!(mermaid().contains("TESTING --> ACTIVATION: draft_accepted"));
    }

    #[test]
    fn the_documented_diagram_is_the_table() {
        let doc = include_str!("../../../../docs/builder.md");
        assert!(doc.contains(&mermaid()), "docs/builder.md is stale: paste the output of `kiln diagram`");
    }
}
