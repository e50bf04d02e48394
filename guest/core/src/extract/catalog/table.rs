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
const STARRED: &[&str] = &["star", "stars", "starred", "flag", "flags", "flagged"];
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

const MERGE_REQUESTS: &[&str] = &["mr", "mrs", "merge", "pr", "prs", "pull"];
const MERGED_ONLY: &[&str] = &["merged"];
const PIPELINE_FAILED: &[&str] =
    &["pipeline", "pipelines", "build", "builds", "ci", "fails", "failed", "failing", "broken", "breaks"];
const SOLVED: &[&str] = &["solved", "solve", "solves", "resolved", "resolves", "closed", "close", "closes"];
const TICKET_UPDATED: &[&str] = &[
    "update",
    "updates",
    "updated",
    "change",
    "changes",
    "changed",
    "edit",
    "edits",
    "edited",
    "assigned",
    "reopened",
    "escalated",
];
const REPLIED: &[&str] = &["reply", "replies", "replied", "respond", "responds", "responded", "answered"];
const SIGNED_UP: &[&str] =
    &["signs", "signed", "signup", "sign", "registers", "registered", "joins", "joined", "account"];
const CONTACT: &[&str] = &["contact", "contacts", "lead", "leads", "user", "users"];
const INVOICE: &[&str] = &["invoice", "invoices"];
const FAILED: &[&str] = &["fail", "fails", "failed", "failing", "declined", "declines", "bounced", "bounces"];
const SUBSCRIPTION: &[&str] = &["subscription", "subscriptions", "subscribes", "subscribed"];
const CHURNED: &[&str] =
    &["cancel", "cancels", "cancelled", "canceled", "churn", "churns", "churned", "unsubscribes"];
const REFUNDED: &[&str] = &["refund", "refunds", "refunded", "chargeback", "chargebacks"];
const CUSTOMER: &[&str] = &["customer", "customers"];
/// A person who is new ("a new customer", "a customer signs up"), not one doing something
/// else ("when a customer makes a payment").
const NEW_ONE: &[&str] =
    &["new", "created", "signs", "signed", "signup", "registers", "registered", "joins", "joined", "added"];
const PAID: &[&str] = &["paid", "pays", "pay", "payment", "payments"];
const FULFILLED: &[&str] =
    &["fulfilled", "fulfil", "fulfill", "fulfils", "fulfills", "shipped", "ships", "ship", "dispatched"];
const LOW_STOCK: &[&str] = &["stock", "inventory", "restock", "sold"];
const SHIPPED_OR_DONE: &[&str] = &[
    "complete",
    "completes",
    "completed",
    "done",
    "finished",
    "fulfilled",
    "shipped",
    "ships",
    "dispatched",
];
const STARTED: &[&str] = &["start", "starts", "started", "begin", "begins", "began"];
const RECORDED: &[&str] = &["recording", "recordings", "recorded", "transcript", "transcripts"];
const STATUS: &[&str] = &["status", "moved", "moves", "marked", "stuck"];
const TASK_DONE: &[&str] =
    &["complete", "completes", "completed", "done", "finished", "closed", "checked", "ticked"];
const UNSUBSCRIBED: &[&str] = &["unsubscribe", "unsubscribes", "unsubscribed", "opts", "leaves"];
const CAMPAIGN: &[&str] = &["campaign", "campaigns"];
const I_POSTED: &[&str] = &["i", "we", "my", "our"];
const POSTED: &[&str] =
    &["tweet", "tweets", "tweeted", "post", "posts", "posted", "publish", "publishes", "published"];
const PERSON: &[&str] = &["person", "persons", "people", "contact", "contacts"];
const PAYMENT: &[&str] = &["payment", "payments", "paid", "pays"];
const BILL: &[&str] = &["bill", "bills"];
const REGRESSED: &[&str] = &["regressed", "regression", "regresses", "reappears", "reopened", "again"];
const RESOLVED: &[&str] = &["resolved", "resolve", "resolves", "closed", "acknowledged", "recovered"];
const LEAD_FORM: &[&str] = &["lead", "leads"];

// Things of the tools added later.
const MRS: &[&str] = &["mr"];
const PIPELINES: &[&str] = &["pipeline", "pipelines", "deploy", "deploys", "deployment", "deployments"];
const CONVERSATIONS: &[&str] = &["conversation", "conversations"];
const PAYMENTS: &[&str] = &[
    "payment",
    "payments",
    "refund",
    "refunds",
    "subscription",
    "subscriptions",
    "payout",
    "payouts",
    "transaction",
    "transactions",
];
const INVOICES: &[&str] = &["invoice", "invoices"];
const BILLS: &[&str] = &["bill", "bills"];
const CUSTOMERS: &[&str] = &["customer", "customers"];
const ORDERS: &[&str] = &["order", "orders", "purchase", "purchases", "product", "products", "inventory"];
const FORMS: &[&str] = &["form", "forms", "response", "responses", "submission", "submissions"];
const INVITEES: &[&str] = &["invitee", "invitees"];
const RECORDINGS: &[&str] = &["recording", "recordings", "webinar", "webinars", "transcript", "transcripts"];
const ITEMS: &[&str] = &["item", "items"];
const SUBSCRIBERS: &[&str] = &["subscriber", "subscribers", "campaign", "campaigns", "audience"];
const TWEETS: &[&str] = &["tweet", "tweets"];
const MENTIONS: &[&str] = &["mention", "mentions"];
const SMS: &[&str] = &["sms", "smses"];
const DOCS: &[&str] = &["doc", "docs"];
const DOCUMENTS: &[&str] = &["document", "documents"];
const ARTICLES: &[&str] = &["article", "articles", "episode", "episodes", "blog"];
const FORECASTS: &[&str] = &["forecast", "forecasts", "rain", "snow", "heatwave"];
const ALERTS: &[&str] = &["alert", "alerts"];
const ERRORS: &[&str] = &["error", "errors", "exception", "exceptions"];
const INCIDENTS: &[&str] = &["incident", "incidents", "outage", "outages"];
const VIDEOS: &[&str] = &["video", "videos"];
const REELS: &[&str] = &["reel", "reels"];

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
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.send"]),
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
        aliases: &[&["google", "drive"], &["gdrive"]],
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
    GITLAB: "gitlab", "GitLab", Code {
        aliases: &[&["gitlab"], &["git", "lab"]],
        exact: &[&["merge", "request"], &["merge", "requests"]],
        events: &[
            ev("issue.opened", &[]),
            ev("merge_request.merged", &[MERGE_REQUESTS, MERGED_ONLY]),
            ev("merge_request.opened", &[MERGE_REQUESTS]),
            ev("push", &[PUSHED]),
            ev("pipeline.failed", &[PIPELINE_FAILED]),
            ev("issue.closed", &[CLOSED]),
        ],
        things: &[CODE, ISSUES, MRS, PIPELINES],
        usual_for: &[MRS, PIPELINES],
        read: step("list_issues", Input::Fixed("filter", "opened"), "issues"),
        sink: Some(Sink { step: CREATE_ISSUE, act: "create_issue", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["api", "read_user"]),
        hosts: &["gitlab.com"],
    }
    BITBUCKET: "bitbucket", "Bitbucket", Code {
        aliases: &[&["bitbucket"], &["bit", "bucket"]],
        exact: &[],
        events: &[
            ev("pull_request.opened", &[]),
            ev("pull_request.merged", &[MERGED]),
            ev("push", &[PUSHED]),
            ev("pipeline.failed", &[PIPELINE_FAILED]),
        ],
        things: &[CODE, PIPELINES],
        usual_for: &[],
        read: step("list_pull_requests", Input::Fixed("state", "OPEN"), "pull_requests"),
        sink: None,
        auth: Auth::Scopes(&["repository", "pullrequest", "pipeline", "webhook"]),
        hosts: &["bitbucket.org"],
    }
    ZENDESK: "zendesk", "Zendesk", Support {
        aliases: &[&["zendesk"], &["zen", "desk"]],
        exact: &[],
        events: &[
            ev("ticket.created", &[]),
            ev("ticket.solved", &[SOLVED]),
            ev("ticket.updated", &[TICKET_UPDATED]),
        ],
        things: &[TICKETS],
        usual_for: &[],
        read: step("list_tickets", Input::Fixed("status", "open"), "tickets"),
        sink: Some(Sink { step: step("create_ticket", Input::Nothing, "ticket_id"), act: "create_issue", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["read", "write"]),
        hosts: &["zendesk.com"],
    }
    INTERCOM: "intercom", "Intercom", Support {
        aliases: &[&["intercom"]],
        exact: &[],
        events: &[
            ev("conversation.created", &[]),
            ev("conversation.replied", &[REPLIED]),
            ev("contact.created", &[CONTACT]),
        ],
        things: &[CONVERSATIONS, CONTACTS],
        usual_for: &[CONVERSATIONS],
        read: step("list_conversations", Input::Fixed("state", "open"), "conversations"),
        sink: Some(Sink { step: step("reply_to_conversation", Input::Nothing, "message_id"), act: "reply", when: SinkWhen::Asked(&["reply"]) }),
        // Intercom apps choose their permissions once, in the Developer Hub; the authorize URL
        // takes no scope.
        auth: Auth::Unscoped,
        hosts: &["intercom.com", "intercom.io"],
    }
    FRESHDESK: "freshdesk", "Freshdesk", Support {
        aliases: &[&["fresh", "desk"]],
        exact: &[&["freshdesk"], &["freshdesks"], &["freshdek"], &["fresdesk"]],
        events: &[
            ev("ticket.created", &[]),
            ev("ticket.solved", &[SOLVED]),
            ev("ticket.updated", &[TICKET_UPDATED]),
        ],
        things: &[TICKETS],
        usual_for: &[],
        read: step("list_tickets", Input::Fixed("filter", "new_and_my_open"), "tickets"),
        sink: Some(Sink { step: step("create_ticket", Input::Nothing, "ticket_id"), act: "create_issue", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::ApiKey,
        hosts: &["freshdesk.com"],
    }
    STRIPE: "stripe", "Stripe", Payments {
        aliases: &[],
        exact: &[&["stripe"], &["stripe's"]],
        events: &[
            ev("payment.succeeded", &[]),
            ev("invoice.payment_failed", &[INVOICE, FAILED]),
            ev("invoice.paid", &[INVOICE]),
            ev("payment.failed", &[FAILED]),
            ev("subscription.cancelled", &[SUBSCRIPTION, CHURNED]),
            ev("subscription.created", &[SUBSCRIPTION]),
            ev("charge.refunded", &[REFUNDED]),
            ev("customer.created", &[CUSTOMER, NEW_ONE]),
        ],
        things: &[PAYMENTS, INVOICES, CUSTOMERS],
        usual_for: &[PAYMENTS],
        read: step("list_payments", Input::Fixed("created", "since the last run"), "payments"),
        sink: None,
        // Stripe Connect (OAuth): read_write is the standard account access (read_only also exists).
        auth: Auth::Scopes(&["read_write"]),
        hosts: &["stripe.com"],
    }
    PAYPAL: "paypal", "PayPal", Payments {
        aliases: &[&["paypal"], &["pay", "pal"]],
        exact: &[],
        events: &[ev("payment.received", &[]), ev("payment.refunded", &[REFUNDED])],
        things: &[PAYMENTS],
        usual_for: &[],
        read: step("list_transactions", Input::Fixed("range", "since the last run"), "transactions"),
        sink: None,
        auth: Auth::Scopes(&["openid", "https://uri.paypal.com/services/reporting/search/read"]),
        hosts: &["paypal.com", "paypal.me"],
    }
    SHOPIFY: "shopify", "Shopify", Commerce {
        aliases: &[&["shopify"]],
        exact: &[],
        events: &[
            ev("order.created", &[]),
            ev("product.low_stock", &[LOW_STOCK]),
            ev("order.fulfilled", &[FULFILLED]),
            ev("order.paid", &[PAID]),
            ev("customer.created", &[CUSTOMER, SIGNED_UP]),
        ],
        things: &[ORDERS, CUSTOMERS],
        usual_for: &[ORDERS],
        read: step("list_orders", Input::Fixed("status", "any"), "orders"),
        sink: None,
        auth: Auth::Scopes(&["read_orders", "read_customers", "read_products", "read_inventory"]),
        hosts: &["myshopify.com", "shopify.com"],
    }
    WOOCOMMERCE: "woocommerce", "WooCommerce", Commerce {
        aliases: &[&["woocommerce"], &["woo", "commerce"]],
        exact: &[],
        events: &[ev("order.created", &[]), ev("order.completed", &[SHIPPED_OR_DONE])],
        things: &[ORDERS, CUSTOMERS],
        usual_for: &[],
        read: step("list_orders", Input::Fixed("status", "any"), "orders"),
        sink: None,
        // A store grants REST API keys through its /wc-auth endpoint; there is no OAuth.
        auth: Auth::ApiKey,
        hosts: &["woocommerce.com"],
    }
    TYPEFORM: "typeform", "Typeform", Forms {
        aliases: &[&["typeform"], &["type", "form"]],
        exact: &[],
        events: &[ev("response.submitted", &[])],
        things: &[FORMS],
        usual_for: &[],
        read: step("list_responses", Input::Fixed("since", "the last run"), "responses"),
        sink: None,
        auth: Auth::Scopes(&["forms:read", "responses:read", "webhooks:write"]),
        hosts: &["typeform.com"],
    }
    GOOGLE_FORMS: "google_forms", "Google Forms", Forms {
        aliases: &[&["google", "forms"], &["google", "form"], &["gforms"], &["gform"]],
        exact: &[],
        events: &[ev("response.submitted", &[])],
        things: &[FORMS],
        usual_for: &[],
        read: step("list_responses", Input::Fixed("since", "the last run"), "responses"),
        sink: None,
        auth: Auth::Scopes(&[
            "https://www.googleapis.com/auth/forms.responses.readonly",
            "https://www.googleapis.com/auth/forms.body.readonly",
        ]),
        hosts: &["docs.google.com/forms", "forms.gle"],
    }
    CALENDLY: "calendly", "Calendly", Scheduling {
        aliases: &[&["calendly"]],
        exact: &[],
        events: &[ev("invitee.created", &[]), ev("invitee.cancelled", &[CANCELLED])],
        things: &[INVITEES, MEETINGS],
        usual_for: &[INVITEES],
        read: step("list_scheduled_events", Input::Fixed("status", "active"), "events"),
        sink: None,
        auth: Auth::Scopes(&["scheduled_events:read", "users:read", "webhooks:write"]),
        hosts: &["calendly.com"],
    }
    ZOOM: "zoom", "Zoom", Meetings {
        aliases: &[],
        exact: &[
            &["zoom", "call"], &["zoom", "calls"], &["zoom", "meeting"], &["zoom", "meetings"],
            &["zoom", "recording"], &["zoom", "recordings"], &["zoom", "webinar"], &["zoom", "webinars"],
            &["zoom", "link"], &["zoom", "account"], &["zoom", "transcript"], &["zoom", "transcripts"],
            &["zoom", "cloud"], &["zoom", ".", "us"],
        ],
        events: &[
            ev("meeting.ended", &[]),
            ev("recording.completed", &[RECORDED]),
            ev("meeting.started", &[STARTED]),
        ],
        things: &[MEETINGS, RECORDINGS],
        usual_for: &[RECORDINGS],
        read: step("list_meetings", Input::Fixed("range", "today"), "meetings"),
        sink: Some(Sink { step: step("create_meeting", Input::Nothing, "join_url"), act: "create_event", when: SinkWhen::Asked(&["create_event"]) }),
        auth: Auth::Scopes(&["meeting:read", "recording:read", "meeting:write"]),
        hosts: &["zoom.us"],
    }
    MONDAY: "monday", "Monday.com", Tasks {
        aliases: &[],
        exact: &[
            &["monday", ".", "com"], &["monday", "com"], &["monday", "board"], &["monday", "boards"],
            &["monday", "workspace"], &["monday", "account"], &["monday", "crm"], &["monday", "item"],
            &["monday", "items"], &["mondaycom"],
        ],
        events: &[
            ev("item.created", &[]),
            ev("status.changed", &[STATUS]),
            ev("item.updated", &[UPDATED]),
        ],
        things: &[ITEMS, TASKS],
        usual_for: &[],
        read: step("list_items", Input::Fixed("filter", "updated recently"), "items"),
        sink: Some(Sink { step: step("create_item", Input::Nothing, "item_id"), act: "create_task", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["boards:read", "boards:write"]),
        hosts: &["monday.com"],
    }
    CLICKUP: "clickup", "ClickUp", Tasks {
        aliases: &[&["clickup"], &["click", "up"]],
        exact: &[],
        events: &[
            ev("task.created", &[]),
            ev("task.completed", &[TASK_DONE]),
            ev("task.updated", &[UPDATED]),
        ],
        things: &[TASKS],
        usual_for: &[],
        read: step("list_tasks", Input::Fixed("filter", "open"), "tasks"),
        sink: Some(Sink { step: step("create_task", Input::Nothing, "task_id"), act: "create_task", when: SinkWhen::Asked(WRITES) }),
        // ClickUp's OAuth has no scopes: the person picks the workspaces to share.
        auth: Auth::Unscoped,
        hosts: &["app.clickup.com", "clickup.com"],
    }
    TODOIST: "todoist", "Todoist", Tasks {
        aliases: &[&["todoist"]],
        exact: &[],
        events: &[ev("task.created", &[]), ev("task.completed", &[TASK_DONE])],
        things: &[TASKS],
        usual_for: &[],
        read: step("list_tasks", Input::Fixed("filter", "today | overdue"), "tasks"),
        sink: Some(Sink { step: step("create_task", Input::Nothing, "task_id"), act: "create_task", when: SinkWhen::Asked(WRITES) }),
        auth: Auth::Scopes(&["data:read_write"]),
        hosts: &["todoist.com"],
    }
    MAILCHIMP: "mailchimp", "Mailchimp", Marketing {
        aliases: &[&["mailchimp"], &["mail", "chimp"]],
        exact: &[],
        events: &[
            ev("subscriber.added", &[]),
            ev("subscriber.unsubscribed", &[UNSUBSCRIBED]),
            ev("campaign.sent", &[CAMPAIGN]),
        ],
        things: &[SUBSCRIBERS],
        usual_for: &[SUBSCRIBERS],
        read: step("list_members", Input::Fixed("status", "subscribed"), "members"),
        sink: Some(Sink { step: step("add_member", Input::Nothing, "member_id"), act: "create_record", when: SinkWhen::Asked(&["create_record"]) }),
        // Mailchimp's OAuth grants the account's full API access; it has no scopes.
        auth: Auth::Unscoped,
        hosts: &["mailchimp.com", "list-manage.com"],
    }
    TWITTER: "twitter", "X (Twitter)", Social {
        aliases: &[&["twitter"]],
        exact: &[&["tweet"], &["tweets"], &["tweeted"], &["tweeting"], &["retweet"], &["retweets"]],
        events: &[ev("mention", &[]), ev("post.created", &[I_POSTED, POSTED])],
        things: &[TWEETS, MENTIONS],
        usual_for: &[TWEETS],
        read: step("list_mentions", Input::Fixed("since", "the last run"), "posts"),
        sink: Some(Sink { step: step("create_post", Input::Nothing, "post_id"), act: "post_message", when: SinkWhen::Asked(&["post_message"]) }),
        auth: Auth::Scopes(&["tweet.read", "tweet.write", "users.read", "offline.access"]),
        hosts: &["x.com", "twitter.com"],
    }
    LINKEDIN: "linkedin", "LinkedIn", Social {
        aliases: &[&["linkedin"]],
        exact: &[],
        events: &[ev("post.created", &[]), ev("comment.added", &[COMMENTED])],
        things: &[COMMENTED],
        usual_for: &[],
        read: step("list_posts", Input::Fixed("author", "me"), "posts"),
        sink: Some(Sink { step: step("create_post", Input::Nothing, "post_id"), act: "post_message", when: SinkWhen::Asked(&["post_message"]) }),
        auth: Auth::Scopes(&["openid", "profile", "w_member_social"]),
        hosts: &["linkedin.com"],
    }
    TELEGRAM: "telegram", "Telegram", Chat {
        aliases: &[&["telegram"]],
        exact: &[],
        events: &[ev("message.posted", &[])],
        things: &[MESSAGES],
        usual_for: &[],
        read: step("list_messages", Input::Fixed("since", "the last run"), "messages"),
        sink: Some(Sink { step: step("send_message", Input::Fixed("chat", "me"), "message_id"), act: "post_message", when: SinkWhen::Always }),
        // A bot token from @BotFather; Telegram has no OAuth.
        auth: Auth::ApiKey,
        hosts: &["t.me", "telegram.org"],
    }
    WHATSAPP: "whatsapp", "WhatsApp", Chat {
        aliases: &[&["whatsapp"]],
        exact: &[&["whats", "app"], &["what's", "app"], &["whatsapp's"]],
        events: &[ev("message.received", &[])],
        things: &[MESSAGES],
        usual_for: &[],
        read: step("list_messages", Input::Fixed("since", "the last run"), "messages"),
        sink: Some(Sink { step: step("send_message", Input::Fixed("to", "me"), "message_id"), act: "post_message", when: SinkWhen::Always }),
        auth: Auth::Scopes(&["whatsapp_business_messaging", "whatsapp_business_management"]),
        hosts: &["wa.me", "whatsapp.com"],
    }
    TWILIO: "twilio", "Twilio SMS", Sms {
        aliases: &[&["twilio"]],
        exact: &[
            &["sms"], &["smses"], &["text", "message"], &["text", "messages"], &["texts", "me"], &["txt", "me"], &["me", "a", "text"], &["us", "a", "text"],
        ],
        events: &[ev("sms.received", &[])],
        things: &[SMS, MESSAGES],
        usual_for: &[SMS],
        read: step("list_messages", Input::Fixed("direction", "inbound"), "messages"),
        sink: Some(Sink { step: step("send_sms", Input::Fixed("to", "me"), "message_sid"), act: "notify", when: SinkWhen::Always }),
        // An account SID and auth token; Twilio has no OAuth for its messaging API.
        auth: Auth::ApiKey,
        hosts: &["twilio.com"],
    }
    ONEDRIVE: "onedrive", "OneDrive", Files {
        aliases: &[&["onedrive"], &["one", "drive"]],
        exact: &[],
        events: &[ev("file.added", &[]), ev("file.updated", &[UPDATED])],
        things: &[FILES],
        usual_for: &[],
        read: step("list_files", Input::Fixed("filter", "changed recently"), "files"),
        sink: Some(Sink { step: step("upload_file", Input::Nothing, "file_url"), act: "save_file", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["offline_access", "Files.ReadWrite"]),
        hosts: &["onedrive.live.com", "1drv.ms", "sharepoint.com"],
    }
    BOX: "box", "Box", Files {
        aliases: &[],
        exact: &[
            &["box", ".", "com"], &["box", "folder"], &["box", "folders"], &["box", "account"], &["box", "drive"],
            &["box", "files"],
        ],
        events: &[ev("file.added", &[]), ev("file.updated", &[UPDATED])],
        things: &[FILES],
        usual_for: &[],
        read: step("list_files", Input::Fixed("filter", "changed recently"), "files"),
        sink: Some(Sink { step: step("upload_file", Input::Nothing, "file_url"), act: "save_file", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["root_readwrite"]),
        hosts: &["box.com", "app.box.com"],
    }
    GOOGLE_DOCS: "google_docs", "Google Docs", Documents {
        aliases: &[&["google", "docs"], &["google", "doc"], &["google", "document"], &["gdocs"], &["gdoc"]],
        exact: &[],
        events: &[ev("document.created", &[]), ev("document.updated", &[UPDATED])],
        things: &[DOCS, DOCUMENTS],
        usual_for: &[DOCS],
        read: step("read_document", Input::Nothing, "text"),
        sink: Some(Sink { step: step("create_document", Input::Nothing, "document_url"), act: "create_page", when: SinkWhen::Asked(&["create_page", "append_row"]) }),
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/documents"]),
        hosts: &["docs.google.com/document"],
    }
    EXCEL: "excel", "Microsoft Excel", Table {
        aliases: &[&["microsoft", "excel"], &["ms", "excel"]],
        exact: &[&["excel"], &["xlsx"]],
        events: &[ev("row.added", &[]), ev("row.updated", &[UPDATED])],
        things: &[ROWS],
        usual_for: &[],
        read: READ_ROWS,
        sink: Some(APPEND_ROW),
        auth: Auth::Scopes(&["offline_access", "Files.ReadWrite"]),
        hosts: &[],
    }
    CONFLUENCE: "confluence", "Confluence", Documents {
        aliases: &[],
        exact: &[&["confluence"], &["confluance"], &["confluense"], &["confulence"]],
        events: &[ev("page.created", &[]), ev("page.updated", &[UPDATED])],
        things: &[PAGES],
        usual_for: &[],
        read: step("list_pages", Input::Fixed("filter", "updated recently"), "pages"),
        sink: Some(Sink { step: step("create_page", Input::Nothing, "page_url"), act: "create_page", when: SinkWhen::Asked(&["create_page", "append_row"]) }),
        auth: Auth::Scopes(&["read:confluence-content.all", "write:confluence-content", "offline_access"]),
        hosts: &["atlassian.net/wiki", "confluence."],
    }
    PIPEDRIVE: "pipedrive", "Pipedrive", Crm {
        aliases: &[&["pipedrive"], &["pipe", "drive"]],
        exact: &[],
        events: &[
            ev("deal.created", &[]),
            ev("deal.won", &[WON]),
            ev("person.created", &[PERSON]),
        ],
        things: &[CONTACTS, LEADS],
        usual_for: &[],
        read: step("list_deals", Input::Fixed("status", "open"), "deals"),
        sink: Some(Sink { step: step("create_deal", Input::Nothing, "deal_id"), act: "create_record", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["base", "deals:full", "contacts:full"]),
        hosts: &["pipedrive.com"],
    }
    QUICKBOOKS: "quickbooks", "QuickBooks", Accounting {
        aliases: &[&["quickbooks"], &["quick", "books"], &["qbo"]],
        exact: &[],
        events: &[
            ev("invoice.created", &[]),
            ev("payment.received", &[PAYMENT]),
            ev("bill.created", &[BILL]),
        ],
        things: &[INVOICES, PAYMENTS, BILLS],
        usual_for: &[BILLS],
        read: step("list_invoices", Input::Fixed("filter", "unpaid"), "invoices"),
        sink: Some(Sink { step: step("create_invoice", Input::Nothing, "invoice_id"), act: "create_record", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["com.intuit.quickbooks.accounting"]),
        hosts: &["quickbooks.intuit.com"],
    }
    XERO: "xero", "Xero", Accounting {
        aliases: &[&["xero"]],
        exact: &[],
        events: &[ev("invoice.created", &[]), ev("payment.received", &[PAYMENT])],
        things: &[INVOICES, PAYMENTS, BILLS],
        usual_for: &[],
        read: step("list_invoices", Input::Fixed("filter", "unpaid"), "invoices"),
        sink: Some(Sink { step: step("create_invoice", Input::Nothing, "invoice_id"), act: "create_record", when: SinkWhen::Last }),
        auth: Auth::Scopes(&["offline_access", "accounting.transactions", "accounting.contacts"]),
        hosts: &["xero.com"],
    }
    RSS: "rss", "RSS feed", Feeds {
        aliases: &[&["atom", "feed"]],
        exact: &[&["rss"], &["rss", "feed"], &["rss", "feeds"]],
        events: &[ev("item.published", &[])],
        things: &[ARTICLES, ITEMS],
        usual_for: &[ARTICLES],
        read: step("read_feed", Input::Nothing, "items"),
        sink: None,
        auth: Auth::NoAccount,
        // Feed URLs rather than hosts: ".../rss", ".../feed.xml", "feeds.example.com".
        hosts: &["rss", "feed", "feeds", "atom"],
    }
    WEATHER: "weather", "Weather", Data {
        aliases: &[],
        exact: &[&["weather", "forecast"], &["weather", "alert"], &["weather", "alerts"]],
        events: &[ev("alert.issued", &[])],
        things: &[FORECASTS, ALERTS],
        usual_for: &[FORECASTS],
        read: step("get_forecast", Input::Fixed("days", "1"), "forecast"),
        sink: None,
        auth: Auth::NoAccount,
        hosts: &[],
    }
    SENTRY: "sentry", "Sentry", Monitoring {
        aliases: &[&["sentry"]],
        exact: &[],
        events: &[ev("issue.created", &[]), ev("issue.regressed", &[REGRESSED])],
        things: &[ERRORS, ISSUES, ALERTS],
        usual_for: &[ERRORS],
        read: step("list_issues", Input::Fixed("query", "is:unresolved"), "issues"),
        sink: None,
        auth: Auth::Scopes(&["org:read", "project:read", "event:read"]),
        hosts: &["sentry.io"],
    }
    PAGERDUTY: "pagerduty", "PagerDuty", Monitoring {
        aliases: &[&["pagerduty"], &["pager", "duty"]],
        exact: &[],
        events: &[ev("incident.triggered", &[]), ev("incident.resolved", &[RESOLVED])],
        things: &[INCIDENTS, ALERTS],
        usual_for: &[INCIDENTS],
        read: step("list_incidents", Input::Fixed("statuses", "triggered,acknowledged"), "incidents"),
        sink: Some(Sink { step: step("create_incident", Input::Nothing, "incident_id"), act: "notify", when: SinkWhen::Asked(&["notify"]) }),
        auth: Auth::Scopes(&["incidents.read", "incidents.write", "services.read"]),
        hosts: &["pagerduty.com"],
    }
    INSTAGRAM: "instagram", "Instagram", Social {
        aliases: &[&["instagram"]],
        exact: &[&["insta"]],
        events: &[ev("post.created", &[]), ev("comment.added", &[COMMENTED])],
        things: &[REELS, COMMENTED],
        usual_for: &[REELS],
        read: step("list_media", Input::Fixed("since", "the last run"), "posts"),
        sink: Some(Sink { step: step("create_post", Input::Nothing, "post_id"), act: "post_message", when: SinkWhen::Asked(&["post_message"]) }),
        auth: Auth::Scopes(&["instagram_business_basic", "instagram_business_manage_comments", "instagram_business_content_publish"]),
        hosts: &["instagram.com"],
    }
    FACEBOOK: "facebook", "Facebook", Social {
        aliases: &[&["facebook"]],
        exact: &[&["fb"]],
        events: &[
            ev("post.created", &[]),
            ev("lead.created", &[LEAD_FORM]),
            ev("comment.added", &[COMMENTED]),
        ],
        things: &[LEADS, COMMENTED],
        usual_for: &[],
        read: step("list_posts", Input::Fixed("since", "the last run"), "posts"),
        sink: Some(Sink { step: step("create_post", Input::Nothing, "post_id"), act: "post_message", when: SinkWhen::Asked(&["post_message"]) }),
        auth: Auth::Scopes(&["pages_show_list", "pages_read_engagement", "pages_manage_posts", "leads_retrieval"]),
        hosts: &["facebook.com", "fb.com"],
    }
    YOUTUBE: "youtube", "YouTube", Social {
        aliases: &[&["youtube"]],
        exact: &[&["yt"]],
        events: &[ev("video.published", &[]), ev("comment.added", &[COMMENTED])],
        things: &[VIDEOS, COMMENTED],
        usual_for: &[VIDEOS],
        read: step("list_videos", Input::Fixed("since", "the last run"), "videos"),
        sink: None,
        auth: Auth::Scopes(&["https://www.googleapis.com/auth/youtube.readonly"]),
        hosts: &["youtube.com", "youtu.be"],
    }
}
