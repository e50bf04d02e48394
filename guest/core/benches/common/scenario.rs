//! The builder benches' scenario, shared by kiln-core's native `turn` bench and the host's
//! `builder` bench (through the component) so that their figures compare.

/// A realistic mix of messages: the request, status, a change, help and an off-topic one.
pub const MIX: [&str; 5] = [
    "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
    "status",
    "post it to #ops",
    "help",
    "what's the weather?",
];

/// The steady-state turn: a message that changes one requirement, alternating.
pub fn message(flip: &mut bool) -> &'static str {
    *flip = !*flip;
    if *flip { "post it to #team" } else { "post it to #ops" }
}
