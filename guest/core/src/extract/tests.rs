//! End-to-end tests of [`extract`] and a property-style robustness test.

use super::*;

fn cron(s: &str) -> Option<String> {
    match extract(s).trigger {
        Some(Trigger::Schedule(s)) => s.cron(),
        _ => None,
    }
}

fn kind(s: &str) -> Option<TriggerKind> {
    extract(s).trigger.map(|t| t.kind())
}

#[test]
fn the_main_example() {
    let ex = extract("Every weekday at 9, summarise my unread Gmail and post it to Slack #team");
    assert_eq!(ex.integrations, [Provider::GMAIL, Provider::SLACK]);
    assert_eq!(
        ex.trigger,
        Some(Trigger::Schedule(Schedule::Daily {
            days: Days::WEEKDAYS,
            time: TimeOfDay::new(9, 0),
            also: Vec::new()
        }))
    );
    assert_eq!(
        cron("Every weekday at 9, summarise my unread Gmail and post it to Slack #team").as_deref(),
        Some("0 9 * * 1-5")
    );
    assert_eq!(ex.time, TimeOfDay::new(9, 0));
    assert_eq!(ex.days, Some(Days::WEEKDAYS));
    assert_eq!(ex.channel.as_deref(), Some("#team"));
    assert_eq!(ex.email_filter.as_deref(), Some("is:unread"));
    assert_eq!(ex.actions, ["summarise", "post_message"]);
    assert_eq!(ex.timezone, None);
    assert!(ex.recipients.is_empty());
}

#[test]
fn schedules() {
    assert_eq!(cron("every 15 mins check my inbox").as_deref(), Some("*/15 * * * *"));
    assert_eq!(cron("hourly: check github").as_deref(), Some("0 * * * *"));
    assert_eq!(cron("daily at 17:30 post open PRs to slack").as_deref(), Some("30 17 * * *"));
    assert_eq!(
        cron("On the 1st of every month at 8am, email me the HubSpot deals").as_deref(),
        Some("0 8 1 * *")
    );
    assert_eq!(cron("every Monday and Thursday at noon post to Teams").as_deref(), Some("0 12 * * 1,4"));
    assert_eq!(cron("on weekends at 10am send me my emails").as_deref(), Some("0 10 * * 0,6"));
    assert_eq!(cron("Post my calendar to teams at 8").as_deref(), Some("0 8 * * *"));
    assert_eq!(cron("nightly at 11pm back up notion to dropbox").as_deref(), Some("0 23 * * *"));
    assert_eq!(kind("every morning summarise my gmail"), Some(TriggerKind::Schedule));
    assert_eq!(cron("every morning summarise my gmail"), None);
    assert_eq!(kind("weekly report of github stars"), Some(TriggerKind::Schedule));
    assert_eq!(kind("On the last day of every month, remind #finance"), None);
}

#[test]
fn events_and_manual() {
    let ex = extract("When a new issue is opened in GitHub, create a card in Trello");
    assert_eq!(ex.trigger, Some(Trigger::Event { provider: Provider::GITHUB, event: "issue.opened".into() }));
    assert_eq!(ex.actions, ["create_task"]);
    let ex = extract("whenever I get an email from my boss, forward it to slack");
    assert_eq!(
        ex.trigger,
        Some(Trigger::Event { provider: Provider::GMAIL, event: "message.received".into() })
    );
    assert_eq!(
        kind("check my email every 10 minutes and text me if something comes in"),
        Some(TriggerKind::Schedule)
    );
    assert_eq!(kind("I want a button I can click to summarise my inbox"), Some(TriggerKind::Manual));
    assert_eq!(kind("let me run it manually whenever I want"), Some(TriggerKind::Manual));
    assert_eq!(kind("on demand"), Some(TriggerKind::Manual));
    // A message that opens on the things themselves handles each as it comes.
    let event = |s: &str| match extract(s).trigger {
        Some(Trigger::Event { provider, event }) => Some(format!("{}/{event}", provider.id())),
        _ => None,
    };
    assert_eq!(
        event("starred mails: make each one a Todoist task").as_deref(),
        Some("gmail/message.starred")
    );
    assert_eq!(
        event("typeform responses into the sheet 'Leads'").as_deref(),
        Some("typeform/response.submitted")
    );
    assert_eq!(event("github issues should land in #triage").as_deref(), Some("github/issue.opened"));
    // Not a tool's name alone before a colon, not things named later in the message.
    assert_eq!(
        event("Trello: when a card moves to Done, post it in #wins").as_deref(),
        Some("trello/card.moved")
    );
    assert_eq!(event("I want my Trello cards copied into Notion"), None);
    assert_eq!(
        event("Customers email us to book. Each email should turn into a row in the sheet Bookings")
            .as_deref(),
        Some("gmail/message.received")
    );
}

#[test]
fn corrections() {
    let ex = extract("make it 8 instead");
    assert_eq!(ex.time, TimeOfDay::new(8, 0));
    assert_eq!(ex.trigger, None);
    assert!(ex.integrations.is_empty());
    assert_eq!(extract("not 9, 8").time, TimeOfDay::new(8, 0));
    let ex = extract("change the channel to #ops");
    assert_eq!(ex.channel.as_deref(), Some("#ops"));
    // Slack only as the default, which a chat tool the conversation has takes over.
    assert_eq!(
        (ex.integrations.as_slice(), ex.implied.as_slice()),
        ([Provider::SLACK].as_slice(), [Provider::SLACK].as_slice())
    );
    assert_eq!(extract("actually use Outlook instead of Gmail").integrations, [Provider::OUTLOOK]);
    assert_eq!(extract("only on Fridays").days, Some(Days::FRI));
}

#[test]
fn a_tool_left_out() {
    let ex = extract("leave Basecamp out and post to #mobile in Slack");
    assert_eq!(ex.integrations, [Provider::SLACK]);
    assert!(ex.unknown_tools.is_empty() && ex.unknown_removed.iter().any(|u| u == "Basecamp"), "{ex:?}");
    assert!(
        !extract("every day at 9 email me the Stripe payouts, leave the Gmail bit out")
            .integrations
            .contains(&Provider::GMAIL)
    );
}

#[test]
fn a_word_after_a_tool_kiln_lacks_is_that_tools() {
    // "email" names Gmail only when it is not the Klaviyo's.
    assert_eq!(
        extract("pull the Klaviyo email stats into the sheet 'Stats' every Monday at 9").integrations,
        [Provider::GOOGLE_SHEETS]
    );
    assert!(extract("email the stats to a@b.co every Monday at 9").integrations.contains(&Provider::GMAIL));
}

#[test]
fn a_day_named_once_is_a_one_off() {
    // A lone day name elsewhere in the message is content, not a recurrence.
    let ex = extract("Next Friday at 3pm, post a reminder in #office that the water is off on Saturday");
    assert_eq!(ex.trigger.map(|t| t.kind()), Some(TriggerKind::Once));
    assert_eq!(kind("every saturday post the weather for next Monday"), Some(TriggerKind::Schedule));
    assert_eq!(kind("on Mondays at 9 post the plan for next Friday"), Some(TriggerKind::Schedule));
    assert_eq!(
        kind("tomorrow morning send the agenda from the Google Doc 'Offsite' to a@b.co"),
        Some(TriggerKind::Once)
    );
}

#[test]
fn recipients_and_filters() {
    let ex = extract(
        "every 15 mins check my inbox for emails from billing@stripe.com and forward them to finance@acme.com",
    );
    assert_eq!(ex.email_filter.as_deref(), Some("from:billing@stripe.com"));
    assert_eq!(ex.recipients, ["finance@acme.com"]);
    let ex = extract("when a github release is published send release notes to customers@acme.com");
    assert_eq!(ex.integrations, [Provider::GITHUB, Provider::GMAIL]);
}

#[test]
fn serde_shape() {
    let ex = extract("Every weekday at 9 London time, summarise my unread Gmail and post it to Slack #team");
    let json = serde_json::to_value(&ex).expect("extraction serialises");
    assert_eq!(json["integrations"], serde_json::json!(["gmail", "slack"]));
    assert_eq!(json["timezone"], "Europe/London");
    assert_eq!(json["trigger"]["schedule"]["kind"], "daily");
    let back: Extraction = serde_json::from_value(json).expect("extraction deserialises");
    assert_eq!(back, ex);
}

/// xorshift64*: a fixed, dependency-free generator so the test is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n as u64)).unwrap_or(0)
    }
}

const FRAGMENTS: &[&str] = &[
    "every",
    "each",
    "time",
    "when",
    "whenever",
    "as soon as",
    "at",
    "9",
    "9:30",
    "9.30",
    "0900",
    "am",
    "pm",
    "p.m.",
    "noon",
    "midnight",
    "half",
    "past",
    "quarter",
    "to",
    "o'clock",
    "mon",
    "-",
    "fri",
    "weekdays",
    "daily",
    "weekly",
    "monthly",
    "the",
    "1st",
    "of",
    "month",
    "last",
    "day",
    "hourly",
    "15",
    "mins",
    "hours",
    "other",
    "gmail",
    "gmial",
    "slack",
    "teams",
    "Teams",
    "#team",
    "#",
    "#-",
    "##",
    "@",
    "bob@acme.com",
    "a@b",
    "@@",
    "https://x.io/a",
    "Asia/Tokyo",
    "asia/",
    "/",
    "London",
    "time",
    "EST",
    "ET",
    "not",
    "instead",
    "of",
    "make",
    "it",
    "8",
    "yes",
    "no",
    ",",
    ".",
    "!",
    "?",
    "'",
    "\"",
    "'quoted",
    "label",
    "subject",
    ":",
    "from",
    "Stripe",
    "unread",
    "new",
    "issue",
    "PR",
    "merged",
    "row",
    "added",
    "→",
    "->",
    "twenty",
    "five",
    "forty-",
    "ish",
    "h",
    "24:00",
    "99:99",
    "25",
    "00000000000000000000000",
    "9999999999",
    "🚀",
    "👍",
    "日本語",
    "Привет",
    "مرحبا",
    "\u{0}",
    "\u{7}",
    "\u{202e}",
    "\u{feff}",
    "\u{1F468}\u{200D}\u{1F469}",
    "é",
    "ß",
    "İ",
    "ǅ",
    "\t",
    "\n",
    "\r\n",
    "a.m",
    "p.",
    "sat",
    "sun",
    "except",
    "but not",
    "from",
    "to",
    "couple",
    "of",
    "twice",
    "an",
    "hour",
    "0",
    "00:00",
    "12am",
    "0am",
    "13pm",
    "calendar",
    "meeting",
    "my",
    "drive",
    "sheet",
    "manually",
    "button",
    "on",
    "demand",
    "older",
    "than",
    "a",
    "week",
];

fn random_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    let n = rng.below(30);
    for _ in 0..n {
        match rng.below(10) {
            0 => {
                // A random code point (skipping surrogates by construction of char::from_u32).
                let cp = u32::try_from(rng.next() % 0x11_0000).unwrap_or(0);
                if let Some(c) = char::from_u32(cp) {
                    s.push(c);
                }
            }
            1 => {
                // Random ASCII including punctuation and controls.
                s.push(char::from(u8::try_from(rng.below(128)).unwrap_or(0)));
            }
            _ => s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]),
        }
        if rng.below(4) != 0 {
            s.push(' ');
        }
    }
    s
}

fn check_invariants(s: &str) {
    let ex = extract(s);
    for (k, p) in ex.integrations.iter().enumerate() {
        assert!(!ex.integrations[..k].contains(p), "duplicate integration for {s:?}");
    }
    if let Some(c) = &ex.channel {
        assert!(c.starts_with('#') && c.len() > 1, "channel {c:?} for {s:?}");
    }
    if let Some(t) = ex.time {
        assert!(t.hour < 24 && t.minute < 60);
    }
    for a in &ex.actions {
        assert!(ACTIONS.contains(&a.as_str()), "action {a:?} for {s:?}");
    }
    if let Some(Trigger::Schedule(sched)) = &ex.trigger {
        if let Some(c) = sched.cron() {
            assert_eq!(c.split(' ').count(), 5, "cron {c:?} for {s:?}");
        }
        assert!(!sched.describe().is_empty());
    }
    let json = serde_json::to_string(&ex).expect("extraction serialises");
    let back: Extraction = serde_json::from_str(&json).expect("extraction deserialises");
    assert_eq!(back, ex);
    let _ = intent(s);
    let _ = leading_intent(s);
    let _ = is_change_request(s);
    let _ = looks_off_topic(s, &ex);
}

#[test]
fn never_panics_on_generated_input() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5_000 {
        let s = random_text(&mut rng);
        check_invariants(&s);
    }
}

#[test]
fn never_panics_on_edge_input() {
    let mut cases: Vec<String> = vec![
        String::new(),
        " ".into(),
        "\0\0\0".into(),
        "#".into(),
        "@".into(),
        "every".into(),
        "at".into(),
        "half past".into(),
        "quarter to".into(),
        "from".into(),
        "the 1st of".into(),
        "mon -".into(),
        "- fri".into(),
        "'".into(),
        "subject '".into(),
        "label".into(),
        "not".into(),
        "yes,".into(),
        "é".repeat(10),
        "🚀".repeat(100),
    ];
    // Long inputs: many words, one huge word, many channels, no punctuation at all.
    cases.push("every weekday at 9 summarise my gmail and post it to slack #team ".repeat(2_000));
    cases.push("a".repeat(100_000));
    cases.push("#x".repeat(50_000));
    cases.push("when ".repeat(50_000));
    cases.push("9:".repeat(50_000));
    cases.push(format!("{}é", "a".repeat(MAX_INPUT - 1)));
    for c in &cases {
        check_invariants(c);
    }
}

#[test]
fn questions_about_the_world_are_not_requests() {
    assert!(extract("what's the weather like there today btw?").is_empty());
    assert!(extract("is it raining in Lisbon?").is_empty());
    // Requests phrased as questions still are.
    assert!(!extract("what if every new Stripe payment went to #sales?").is_empty());
    assert!(!extract("can you post it to #ops instead?").is_empty());
    assert_eq!(extract("how about 8?").time, TimeOfDay::new(8, 0));
    // A day in a mention of a tool is not a one-off run; alone (an answer) or with what to do, it is.
    assert!(!matches!(extract("the weather today").trigger, Some(Trigger::Once(_))));
    assert!(matches!(extract("next Friday").trigger, Some(Trigger::Once(_))));
    assert!(matches!(extract("tomorrow at 9 send the deck to #sales").trigger, Some(Trigger::Once(_))));
}

#[test]
fn the_mail_filter_is_for_mail_the_agent_reads() {
    let filter = |s: &str| extract(s).email_filter;
    // Mail that only delivers the results filters nothing; the words were about the other tool.
    assert_eq!(filter("daily at 6:30 email dispatch@acme.com a list of today's calendar events"), None);
    assert_eq!(filter("every monday send me the new contacts from HubSpot by email"), None);
    // The trigger's own state is not a filter on top of it; mail that is read keeps its filter.
    assert_eq!(filter("starred gmail -> todoist task"), None);
    assert_eq!(
        filter("every day at 9 summarise my unread emails and email me the digest").as_deref(),
        Some("is:unread")
    );
    assert_eq!(filter("starred emails from boss@acme.com -> todoist").as_deref(), Some("from:boss@acme.com"));
}

#[test]
fn events_told_apart_from_where_results_go() {
    let event = |s: &str| match extract(s).trigger {
        Some(Trigger::Event { provider, event }) => Some(format!("{}/{event}", provider.id())),
        _ => None,
    };
    // "email" as the verb after a tool's name is not mail from that tool.
    assert_eq!(
        event("if a payment fails in stripe pls email the customer").as_deref(),
        Some("stripe/payment.failed")
    );
    // A clause that names nothing happens in a tool named before it, or Kiln lacks it.
    assert_eq!(
        event("I have a contact form on my Webflow site. When someone submits it, add them to HubSpot")
            .as_deref(),
        Some("webhook/request.received")
    );
    // With a webhook to call it, anything that happens is an event.
    assert_eq!(
        event("our backend will POST to a webhook when a user upgrades").as_deref(),
        Some("webhook/request.received")
    );
    assert_eq!(
        extract("run it once right now: pull the open tickets").trigger.map(|t| t.kind()),
        Some(TriggerKind::Once)
    );
    assert_eq!(
        extract("an agent I trigger myself that copies the responses").trigger.map(|t| t.kind()),
        Some(TriggerKind::Manual)
    );
}

#[test]
fn times_zones_and_phones_written_other_ways() {
    assert_eq!(cron("each morning at 8h30 a message in Slack #ventes").as_deref(), Some("30 8 * * *"));
    assert_eq!(cron("twice a day (9 and 5) post the count to #ops").as_deref(), Some("0 9,17 * * *"));
    assert_eq!(
        extract("every day at 8h30 post to #x. Hour of Paris.").timezone.as_deref(),
        Some("Europe/Paris")
    );
    let ex = extract("when it fails, send an SMS to the nurse at +1 (617) 555-0143");
    assert!(ex.destinations.iter().any(|p| p.name == "+16175550143"), "{:?}", ex.destinations);
    // Today's way of doing it is not how the agent runs.
    assert_eq!(
        kind(
            "right now my assistant copies them by hand. Every hour from 9 to 5 copy the orders to Airtable"
        ),
        Some(TriggerKind::Schedule)
    );
    assert_eq!(
        kind("whenevr someone books a call on calendly add them to hubspot"),
        Some(TriggerKind::Event)
    );
    assert!(
        extract("post our blog posts to LinkedIn and X every weekday at 11")
            .integrations
            .contains(&Provider::TWITTER)
    );
}

#[test]
fn answers_people_give_in_a_conversation() {
    // Two times as the whole answer; "not just Monday" keeps Monday; flagging is starring.
    let ex = extract("9 and 4");
    assert_eq!(
        (ex.time, ex.also.clone()),
        (TimeOfDay::new(9, 0), vec![TimeOfDay::new(16, 0).expect("a time")])
    );
    assert_eq!(extract("actually make it every weekday, not just monday").days, Some(Days::WEEKDAYS));
    assert!(matches!(
        extract("whenever I flag an email in outlook, add it to Asana").trigger,
        Some(Trigger::Event { event, .. }) if event == "message.starred"
    ));
    // A question about what Kiln works with adds nothing; a request phrased as one does.
    let asked = Reading::new("do you also work with Facebook groups?");
    assert!(asked.extract().is_empty());
    assert_eq!(asked.tools_asked_about(), [Provider::FACEBOOK]);
    assert!(
        !extract("can you connect Calendly and my Google Calendar so I stop getting double booked?")
            .is_empty()
    );
    assert!(Reading::new("can Copper and Gmail talk to each other?").tools_asked_about().is_empty());
    // A lone channel in a message that reads another tool is where the results go.
    let ex = extract(
        "every monday at 8h a summary of the new Salesforce opportunities in the Teams channel Direction",
    );
    assert_eq!(ex.channel.as_deref(), Some("#direction"));
}

#[test]
fn a_dm_with_no_channel_and_a_manual_run() {
    assert_eq!(extract("pacific time. and just DM me, no channel needed").channel.as_deref(), Some("@me"));
    assert_eq!(
        kind("I'd like an agent I can run myself that posts the unassigned Linear issues to slack"),
        Some(TriggerKind::Manual)
    );
}

#[test]
fn tools_kiln_lacks_named_with_digits_or_by_their_webhooks() {
    let unknown = |s: &str| extract(s).unknown_tools;
    assert_eq!(unknown("when somebody pay by Przelewy24 I want email to me@x.pl"), ["Przelewy24"]);
    assert_eq!(unknown("Our shop Kasa can send webhook when an order comes in"), ["Kasa"]);
    assert_eq!(unknown("export the deals from Bitrix24 to Google Sheets"), ["Bitrix24"]);
}

#[test]
fn a_tool_taken_back_for_the_next_one_goes() {
    let tools = |s: &str| extract(s).integrations;
    assert_eq!(
        tools("when a GitLab pipeline fails on main open a ticket in Zendesk, no, Freshdesk"),
        [Provider::GITLAB, Provider::FRESHDESK]
    );
    assert!(
        !tools("post GitLab pipeline failures to Discord #ci, no wait, to the Teams channel Build")
            .contains(&Provider::DISCORD)
    );
    // "no channel needed" takes nothing back; "P1" and "Q3" are not tools.
    assert!(tools("post it in Slack, no channel needed, just DM me").contains(&Provider::SLACK));
    assert!(extract("open P1 tickets from Zendesk -> #ops").unknown_tools.is_empty());
}

#[test]
fn early_hours_for_the_day_ahead_and_things_done() {
    assert_eq!(
        cron("every weekday at 6:30 send the day's calendar events to #dispatch").as_deref(),
        Some("30 6 * * 1-5")
    );
    assert_eq!(cron("evry day at 6 txt me the wether pls").as_deref(), Some("0 6 * * *"));
    assert_eq!(cron("every day at 6 post the sales summary to #sales").as_deref(), Some("0 18 * * *"));
    assert_eq!(
        cron("every hr from 8 to 6 check outlook").as_deref(),
        Some("0 8,9,10,11,12,13,14,15,16,17,18 * * *")
    );
    assert_eq!(
        kind("Please I need when client do payment in PayPal, the agent write it in the sheet"),
        Some(TriggerKind::Event)
    );
}

#[test]
fn a_customer_doing_something_is_not_a_new_customer() {
    let event = |s: &str| match extract(s).trigger {
        Some(Trigger::Event { event, .. }) => event,
        other => panic!("{other:?}"),
    };
    assert_eq!(event("when a customer makes a payment in Stripe, post to #sales"), "payment.succeeded");
    assert_eq!(event("when a new customer is created in Stripe, post to #sales"), "customer.created");
}
