//! The integration catalog: one entry per tool. Everything Kiln knows about a tool is here,
//! and every list, match, scope, event and draft step elsewhere is derived from it
//! (`docs/extractor.md`, "How to add an integration").
//!
//! An entry's index is its [`Provider`] and its serialised form in stored session records, so
//! entries are only ever appended: the first 19 are the variants of the enum `Provider` was,
//! in that order.

use super::{Auth, Category, Event, Input, Provider, Sink, SinkWhen, Step, Tool};

/// `Step { verb, input, output }`, shorter.
const fn step(verb: &'static str, input: Input, output: &'static str) -> Step {
    Step { verb, input, output }
}

/// The default read step: recent items.
const LIST_ITEMS: Step = step("list_items", Input::Fixed("filter", "updated recently"), "items");
/// The default write step.
const SEND: Step = step("send", Input::Nothing, "result");

/// An event with the cue groups that select it (every group must have a word in the clause).
const fn ev(id: &'static str, cues: &'static [&'static [&'static str]]) -> Event {
    Event { id, cues }
}

// Cue words of events (a clause selects an event when it has a word of each of its groups).
const STARRED: &[&str] = &["star", "stars", "starred"];
const REACTED: &[&str] = &["react", "reacts", "reacted", "reaction", "reactions", "emoji"];
const MENTIONED: &[&str] = &["mention", "mentions", "mentioned", "@me", "tag", "tags", "tagged"];
const PR: &[&str] = &["pr", "prs", "pull"];
const MERGED: &[&str] = &["merged", "merge", "merges"];
const PUSHED: &[&str] = &["push", "pushes", "pushed", "commit", "commits"];
const RELEASED: &[&str] = &["release", "releases", "published"];
const BUILD_FAILED: &[&str] = &["build", "builds", "ci", "actions", "workflow", "fails", "failed"];
const CLOSED: &[&str] = &["closed", "close", "closes"];
const COMMENTED: &[&str] = &["comment", "comments", "commented"];
const LABELED: &[&str] = &["label", "labelled", "labeled", "tagged"];
const ASSIGNED: &[&str] = &["assign", "assigns", "assigned"];
const UPDATED: &[&str] =
    &["update", "updates", "updated", "change", "changes", "changed", "edit", "edits", "edited"];
const ISSUE_UPDATED: &[&str] = &[
    "update",
    "updates",
    "updated",
    "change",
    "changes",
    "changed",
    "edit",
    "edits",
    "edited",
    "marked",
    "moved",
    "moves",
    "transitions",
    "resolved",
    "closed",
];
const CANCELLED: &[&str] = &["cancel", "cancels", "cancelled", "canceled", "deleted"];
const ENDED: &[&str] = &["end", "ends", "ended", "finishes", "finished", "after"];
const EVENT_CREATED: &[&str] = &[
    "new",
    "created",
    "create",
    "creates",
    "added",
    "add",
    "adds",
    "opened",
    "open",
    "opens",
    "books",
    "book",
    "booked",
    "invite",
    "invites",
    "invited",
    "schedules",
];
const MOVED: &[&str] = &["move", "moves", "moved"];
const COMPLETED: &[&str] = &["complete", "completes", "completed", "done", "finished"];
const DEAL: &[&str] = &["deal", "deals"];
const WON: &[&str] = &["won", "wins", "win", "closes", "closed"];
const OPPORTUNITY: &[&str] = &["opportunity", "opportunities", "deal", "deals"];

// Things events happen to (a clause's thing picks the event's provider among those that hold it).
const MAIL: &[&str] = &["email", "emails", "mail", "mails", "inbox", "invoice", "invoices", "newsletter"];
const MESSAGES: &[&str] =
    &["message", "messages", "dm", "dms", "mention", "mentions", "reaction", "reactions"];
const CODE: &[&str] = &[
    "pr", "prs", "pull", "commit", "commits", "push", "release", "releases", "build", "builds", "repo",
    "star",
];
const ISSUES: &[&str] = &["issue", "issues", "bug", "bugs"];
const TICKETS: &[&str] = &["ticket", "tickets"];
const ROWS: &[&str] = &["row", "rows", "form", "forms", "response", "responses", "submission", "submissions"];
const RECORDS: &[&str] = &["record", "records"];
const FILES: &[&str] =
    &["file", "files", "upload", "uploads", "document", "documents", "pdf", "folder", "photo", "photos"];
const PAGES: &[&str] = &["page", "pages", "wiki"];
const CARDS: &[&str] = &["card", "cards"];
const TASKS: &[&str] = &["task", "tasks"];
const LEADS: &[&str] = &["lead", "leads", "opportunity", "opportunities"];
const CONTACTS: &[&str] = &["contact", "contacts", "deal", "deals"];
const MEETINGS: &[&str] =
    &["meeting", "meetings", "event", "events", "invite", "invites", "booking", "bookings", "appointment"];
const REQUESTS: &[&str] = &["payload", "request", "requests", "webhook"];

// Shared step and sink shapes.
const READ_MAIL: Step = step("search_messages", Input::EmailQuery, "messages");
const SEND_MAIL: Sink = Sink {
    step: step("send_email", Input::Recipients, "message_id"),
    act: "send_email",
    when: SinkWhen::Asked(&["send_email", "forward"]),
};
const POST_MESSAGE: Sink = Sink {
    step: step("post_message", Input::Channel, "message_id"),
    act: "post_message",
    when: SinkWhen::Always,
};
/// Actions that make a table, page or tracker the destination.
const WRITES: &[&str] = &["append_row", "create_task", "create_issue"];
const READ_ROWS: Step = step("read_rows", Input::Fixed("range", "Sheet1"), "rows");
const APPEND_ROW: Sink = Sink {
    step: step("append_row", Input::Nothing, "row"),
    act: "append_row",
    when: SinkWhen::Asked(WRITES),
};
const CREATE_ISSUE: Step = step("create_issue", Input::Nothing, "issue_url");
const SAVE_FILE: Sink = Sink { step: SEND, act: "save_file", when: SinkWhen::Last };
const CRM_RECORD: Sink = Sink { step: SEND, act: "create_record", when: SinkWhen::Last };

/// Defines [`TOOLS`] and, on [`Provider`], one constant per entry in the same order, so an
/// entry and its constant cannot drift apart.
macro_rules! catalog {
    ($($konst:ident: $id:literal, $name:literal, $category:ident {$($field:ident: $value:expr,)*})*) => {
        /// Every tool, in [`Provider`] index order.
        pub(crate) const TOOLS: &[Tool] =
            &[$(Tool { id: $id, name: $name, category: Category::$category, $($field: $value,)* }),*];

        /// The constants' names, in the same order (a test checks each matches its id).
        #[cfg(test)]
        pub(crate) const CONST_NAMES: &[&str] = &[$(stringify!($konst)),*];

        impl Provider {
            consts!(0u8; $($konst $name)*);
        }
    };
}

/// One `Provider` constant per entry, numbered from 0.
macro_rules! consts {
    ($n:expr;) => {};
    ($n:expr; $konst:ident $name:literal $($rest:tt)*) => {
        #[doc = concat!("The ", $name, " integration.")]
        pub const $konst: Provider = Provider($n);
        consts!($n + 1; $($rest)*);
    };
}

catalog! {
    GMAIL: "gmail", "Gmail", Email {
        aliases: &[&["gmail"], &["googlemail"], &["google", "mail"], &["g", "-", "mail"]],
        exact: &[],
        events: &[ev("message.received", &[]), ev("message.starred", &[STARRED])],
        things: &[MAIL, MESSAGES],
        usual_for: &[MAIL],
        read: READ_MAIL,
        sink: Some(SEND_MAIL),
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/gmail.readonly"]),
        hosts: &["mail.google."],
    }
    SLACK: "slack", "Slack", Chat {
        aliases: &[&["slack"]],
        exact: &[],
        events: &[ev("message.posted", &[]), ev("reaction.added", &[REACTED]), ev("mention", &[MENTIONED])],
        things: &[MESSAGES],
        usual_for: &[MESSAGES],
        read: LIST_ITEMS,
        sink: Some(POST_MESSAGE),
        auth: Auth::Scopes(&["chat:write", "channels:read"]),
        hosts: &["slack.com"],
    }
    GOOGLE_CALENDAR: "google_calendar", "Google Calendar", Calendar {
        aliases: &[&["google", "calendar"], &["google", "calender"], &["google", "cal"], &["gcal"]],
        exact: &[],
        events: &[
            ev("event.starting", &[]),
            ev("event.cancelled", &[CANCELLED]),
            ev("event.ended", &[ENDED]),
            ev("event.created", &[EVENT_CREATED]),
        ],
        things: &[MEETINGS],
        usual_for: &[MEETINGS],
        read: step("list_events", Input::Fixed("range", "today"), "events"),
        sink: Some(Sink { step: step("create_event", Input::Nothing, "event_id"), act: "create_event", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/calendar.events"]),
        hosts: &["calendar.google."],
    }
    GITHUB: "github", "GitHub", Code {
        aliases: &[&["github"], &["git", "hub"]],
        exact: &[],
        events: &[
            ev("issue.opened", &[]),
            ev("pull_request.merged", &[PR, MERGED]),
            ev("pull_request.opened", &[PR]),
            ev("push", &[PUSHED]),
            ev("release.published", &[RELEASED]),
            ev("workflow.failed", &[BUILD_FAILED]),
            ev("star.created", &[STARRED]),
            ev("issue.closed", &[CLOSED]),
            ev("issue.commented", &[COMMENTED]),
            ev("issue.labeled", &[LABELED]),
        ],
        things: &[CODE, ISSUES, TICKETS],
        usual_for: &[CODE, ISSUES],
        read: step("list_issues", Input::Fixed("filter", "open"), "issues"),
        sink: Some(Sink { step: CREATE_ISSUE, act: "create_issue", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["repo", "read:user"]),
        hosts: &["github.com"],
    }
    NOTION: "notion", "Notion", Documents {
        aliases: &[&["notion"]],
        exact: &[],
        events: &[ev("page.created", &[]), ev("page.updated", &[UPDATED])],
        things: &[PAGES, TASKS],
        usual_for: &[PAGES],
        read: LIST_ITEMS,
        sink: Some(Sink { step: step("create_page", Input::Nothing, "page_url"), act: "create_page", when: SinkWhen::Asked(WRITES) }),
        // Notion grants capabilities per integration when it is connected, not by OAuth scope.
        auth: Auth::Unscoped,
        hosts: &["notion.so", "notion.site"],
    }
    GOOGLE_SHEETS: "google_sheets", "Google Sheets", Table {
        aliases: &[
            &["google", "sheets"], &["google", "sheet"], &["google", "spreadsheet"], &["google", "spreadsheets"],
            &["gsheet"], &["gsheets"],
        ],
        exact: &[],
        events: &[ev("row.added", &[]), ev("row.updated", &[UPDATED])],
        things: &[ROWS],
        usual_for: &[ROWS],
        read: READ_ROWS,
        sink: Some(APPEND_ROW),
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/spreadsheets"]),
        hosts: &["docs.google.com/spreadsheets", "sheets.google."],
    }
    GOOGLE_DRIVE: "google_drive", "Google Drive", Files {
        aliases: &[&["google", "drive"], &["google", "docs"], &["google", "doc"], &["gdrive"], &["gdocs"]],
        exact: &[],
        events: &[ev("file.added", &[]), ev("file.updated", &[UPDATED])],
        things: &[FILES],
        usual_for: &[FILES],
        read: LIST_ITEMS,
        sink: Some(SAVE_FILE),
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/drive.file"]),
        hosts: &["drive.google.", "docs.google."],
    }
    OUTLOOK: "outlook", "Outlook", Email {
        aliases: &[
            &["outlook"], &["hotmail"], &["office", "365"], &["office365"], &["o365"], &["microsoft", "365"],
        ],
        exact: &[],
        events: &[ev("message.received", &[]), ev("message.starred", &[STARRED])],
        things: &[MAIL, MESSAGES, MEETINGS],
        usual_for: &[],
        read: READ_MAIL,
        sink: Some(SEND_MAIL),
        auth: Auth::Scopes(&["offline_access", "Mail.Read", "Mail.Send"]),
        hosts: &["outlook."],
    }
    MICROSOFT_TEAMS: "microsoft_teams", "Microsoft Teams", Chat {
        aliases: &[&["microsoft", "teams"], &["ms", "teams"], &["msteams"]],
        exact: &[],
        events: &[ev("message.posted", &[]), ev("reaction.added", &[REACTED]), ev("mention", &[MENTIONED])],
        things: &[MESSAGES],
        usual_for: &[],
        read: LIST_ITEMS,
        sink: Some(POST_MESSAGE),
        auth: Auth::Scopes(&["offline_access", "ChannelMessage.Send", "Channel.ReadBasic.All"]),
        hosts: &["teams.microsoft."],
    }
    JIRA: "jira", "Jira", Tasks {
        aliases: &[&["jira"], &["jria"], &["jirra"]],
        exact: &[],
        events: &[
            ev("issue.created", &[]),
            ev("issue.assigned", &[ASSIGNED]),
            ev("issue.commented", &[COMMENTED]),
            ev("issue.updated", &[ISSUE_UPDATED]),
        ],
        things: &[ISSUES, TICKETS, TASKS],
        usual_for: &[TICKETS],
        read: LIST_ITEMS,
        sink: Some(Sink { step: CREATE_ISSUE, act: "create_issue", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["read:jira-work", "write:jira-work", "offline_access"]),
        hosts: &["atlassian.net"],
    }
    TRELLO: "trello", "Trello", Tasks {
        aliases: &[&["trello"]],
        exact: &[],
        events: &[ev("card.created", &[]), ev("card.moved", &[MOVED])],
        things: &[CARDS, TASKS],
        usual_for: &[CARDS],
        read: LIST_ITEMS,
        sink: Some(Sink { step: CREATE_ISSUE, act: "create_task", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["read", "write"]),
        hosts: &["trello.com"],
    }
    DISCORD: "discord", "Discord", Chat {
        aliases: &[&["discord"]],
        exact: &[],
        events: &[ev("message.posted", &[]), ev("reaction.added", &[REACTED]), ev("mention", &[MENTIONED])],
        things: &[MESSAGES],
        usual_for: &[],
        read: LIST_ITEMS,
        sink: Some(POST_MESSAGE),
        auth: Auth::Scopes(&["identify", "bot"]),
        hosts: &["discord.com", "discordapp.com"],
    }
    HUBSPOT: "hubspot", "HubSpot", Crm {
        aliases: &[&["hubspot"], &["hub", "spot"]],
        exact: &[],
        events: &[
            ev("contact.created", &[]),
            ev("deal.won", &[DEAL, WON]),
            ev("deal.created", &[DEAL]),
            ev("contact.updated", &[UPDATED]),
        ],
        things: &[RECORDS, LEADS, CONTACTS],
        usual_for: &[CONTACTS],
        read: LIST_ITEMS,
        sink: Some(CRM_RECORD),
        auth: Auth::Scopes(&["crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.deals.read"]),
        hosts: &["hubspot.com"],
    }
    SALESFORCE: "salesforce", "Salesforce", Crm {
        aliases: &[&["salesforce"], &["sales", "force"], &["sfdc"]],
        exact: &[],
        events: &[
            ev("lead.created", &[]),
            ev("opportunity.closed", &[OPPORTUNITY, WON]),
            ev("opportunity.created", &[OPPORTUNITY]),
            ev("record.updated", &[UPDATED]),
        ],
        things: &[RECORDS, LEADS, CONTACTS],
        usual_for: &[LEADS],
        read: LIST_ITEMS,
        sink: Some(CRM_RECORD),
        auth: Auth::Scopes(&["api", "refresh_token"]),
        hosts: &["salesforce.com", "force.com"],
    }
    DROPBOX: "dropbox", "Dropbox", Files {
        aliases: &[&["dropbox"], &["drop", "box"]],
        exact: &[],
        events: &[ev("file.added", &[]), ev("file.updated", &[UPDATED])],
        things: &[FILES],
        usual_for: &[],
        read: LIST_ITEMS,
        sink: Some(SAVE_FILE),
        auth: Auth::Scopes(&["files.content.read", "files.content.write"]),
        hosts: &["dropbox.com"],
    }
    AIRTABLE: "airtable", "Airtable", Table {
        aliases: &[&["airtable"], &["air", "table"]],
        exact: &[],
        events: &[ev("record.created", &[]), ev("record.updated", &[UPDATED])],
        things: &[ROWS, RECORDS],
        usual_for: &[RECORDS],
        read: READ_ROWS,
        sink: Some(APPEND_ROW),
        auth: Auth::Scopes(&["data.records:read", "data.records:write", "schema.bases:read"]),
        hosts: &["airtable.com"],
    }
    LINEAR: "linear", "Linear", Tasks {
        aliases: &[&["linear"]],
        exact: &[],
        events: &[
            ev("issue.created", &[]),
            ev("issue.assigned", &[ASSIGNED]),
            ev("issue.commented", &[COMMENTED]),
            ev("issue.updated", &[ISSUE_UPDATED]),
        ],
        things: &[ISSUES, TICKETS, TASKS],
        usual_for: &[],
        read: LIST_ITEMS,
        sink: Some(Sink { step: CREATE_ISSUE, act: "create_issue", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["read", "write"]),
        hosts: &["linear.app"],
    }
    ASANA: "asana", "Asana", Tasks {
        aliases: &[&["asana"]],
        exact: &[],
        events: &[ev("task.created", &[]), ev("task.completed", &[COMPLETED])],
        things: &[TASKS],
        usual_for: &[TASKS],
        read: LIST_ITEMS,
        sink: Some(Sink { step: CREATE_ISSUE, act: "create_task", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["default"]),
        hosts: &["asana.com"],
    }
    WEBHOOK: "webhook", "Webhook", Webhook {
        aliases: &[&["webhook"], &["webhooks"], &["web", "hook"], &["web", "hooks"], &["endpoint"]],
        exact: &[],
        events: &[ev("request.received", &[])],
        things: &[ROWS, REQUESTS],
        usual_for: &[REQUESTS],
        read: LIST_ITEMS,
        sink: Some(Sink { step: SEND, act: "call_webhook", when: SinkWhen::Last }),
        auth: Auth::NoAccount,
        hosts: &[],
    }
}
