//! Tools a message names that the catalog does not know ("post it to Zulip", "our Basecamp
//! project", "my HelpScout inbox"), kept by name so nothing the person said is dropped.
//!
//! Precision comes first: a person, a city or a company ("email Sarah", "our Lisbon office",
//! "Acme's invoices") must not become a tool. So a name counts when it is one of the
//! well-known tools Kiln lacks ([`KNOWN_ELSEWHERE`], in any case; the ones that are also
//! ordinary words only capitalised or next to a tool's noun), or when it looks like a product
//! name (CamelCase such as "ActiveCampaign", or dotted such as "Cal.com") where a tool sits, or
//! when a capitalised word is followed by a noun only tools have ("my Mailerlite account",
//! "the Frontapp API").

use super::super::token::{Kind, Toks};
use super::{Mention, after_negator};

/// A tool the catalog does not know, as the message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    /// As written (original case).
    pub(crate) name: String,
    /// Token index where it starts.
    pub(crate) pos: usize,
    /// Token index just after it.
    pub(crate) end: usize,
    /// A chat tool (its channels are not Slack's).
    pub(crate) chat: bool,
    /// Said not to be wanted ("leave out Zulip").
    pub(crate) negated: bool,
}

/// How a name of [`KNOWN_ELSEWHERE`] may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// Only a tool's name: matched in any case.
    Name,
    /// Also an ordinary word ("front", "signal", "medium"): matched only capitalised
    /// mid-sentence, after a preposition or before a tool's noun ("on Medium", "our Front inbox").
    Ordinary,
    /// Also a word, but one rarely capitalised mid-sentence unless it names the product
    /// ("new Greenhouse applicants", "our Harvest hours"): matched capitalised mid-sentence.
    Capital,
}

/// Well-known tools Kiln has no integration for: (words, chat tool, how the name may be read),
/// sorted by words (found by binary search on the first word; a test keeps it sorted).
const KNOWN_ELSEWHERE: &[(&[&str], bool, Word)] = &[
    (&["activecampaign"], false, Word::Name),
    (&["acuity"], false, Word::Name),
    (&["adp"], false, Word::Name),
    (&["adyen"], false, Word::Name),
    (&["afterpay"], false, Word::Name),
    (&["aftership"], false, Word::Name),
    (&["airbnb"], false, Word::Name),
    (&["airbrake"], false, Word::Name),
    (&["aircall"], false, Word::Name),
    (&["alertmanager"], false, Word::Name),
    (&["allegro"], false, Word::Capital),
    (&["amplitude"], false, Word::Name),
    (&["apple", "calendar"], false, Word::Name),
    (&["apple", "notes"], false, Word::Name),
    (&["argocd"], false, Word::Name),
    (&["ashby"], false, Word::Capital),
    (&["attio"], false, Word::Name),
    (&["azure", "devops"], false, Word::Name),
    (&["bamboo", "hr"], false, Word::Name),
    (&["bamboohr"], false, Word::Name),
    (&["basecamp"], false, Word::Name),
    (&["baserow"], false, Word::Name),
    (&["bigcommerce"], false, Word::Name),
    (&["bigquery"], false, Word::Name),
    (&["bill", ".", "com"], false, Word::Name),
    (&["bitrise"], false, Word::Name),
    (&["bitrix24"], false, Word::Name),
    (&["bluesky"], false, Word::Name),
    (&["booksy"], false, Word::Name),
    (&["braintree"], false, Word::Name),
    (&["braze"], false, Word::Name),
    (&["brevo"], false, Word::Name),
    (&["brex"], false, Word::Name),
    (&["buffer"], false, Word::Ordinary),
    (&["bugsnag"], false, Word::Name),
    (&["buildkite"], false, Word::Name),
    (&["bullhorn"], false, Word::Name),
    (&["canva"], false, Word::Name),
    (&["chanty"], false, Word::Name),
    (&["chargebee"], false, Word::Name),
    (&["circleci"], false, Word::Name),
    (&["classdojo"], false, Word::Name),
    (&["clickfunnels"], false, Word::Name),
    (&["cliniko"], false, Word::Name),
    (&["clio"], false, Word::Name),
    (&["clockify"], false, Word::Name),
    (&["close"], false, Word::Ordinary),
    (&["cloudflare"], false, Word::Name),
    (&["clover"], false, Word::Ordinary),
    (&["coda"], false, Word::Capital),
    (&["codemagic"], false, Word::Name),
    (&["constant", "contact"], false, Word::Name),
    (&["contentful"], false, Word::Name),
    (&["convertkit"], false, Word::Name),
    (&["copper"], false, Word::Ordinary),
    (&["crashlytics"], false, Word::Name),
    (&["crisp"], false, Word::Ordinary),
    (&["datadog"], false, Word::Name),
    (&["datev"], false, Word::Name),
    (&["deel"], false, Word::Name),
    (&["dialpad"], false, Word::Name),
    (&["digitalocean"], false, Word::Name),
    (&["dingtalk"], false, Word::Name),
    (&["discourse"], true, Word::Name),
    (&["dixa"], false, Word::Name),
    (&["docker"], false, Word::Name),
    (&["doctolib"], false, Word::Name),
    (&["docusign"], false, Word::Name),
    (&["donorbox"], false, Word::Name),
    (&["doodle"], false, Word::Name),
    (&["drift"], false, Word::Ordinary),
    (&["drip"], false, Word::Ordinary),
    (&["easyship"], false, Word::Name),
    (&["ebay"], false, Word::Name),
    (&["ecwid"], false, Word::Name),
    (&["element"], false, Word::Ordinary),
    (&["etsy"], false, Word::Name),
    (&["eventbrite"], false, Word::Name),
    (&["everhour"], false, Word::Name),
    (&["evernote"], false, Word::Name),
    (&["expensify"], false, Word::Name),
    (&["fastmail"], false, Word::Name),
    (&["fathom"], false, Word::Ordinary),
    (&["feishu"], false, Word::Name),
    (&["figma"], false, Word::Name),
    (&["firebase"], false, Word::Name),
    (&["fitbit"], false, Word::Name),
    (&["flipkart"], false, Word::Name),
    (&["float"], false, Word::Ordinary),
    (&["fly", ".", "io"], false, Word::Name),
    (&["formstack"], false, Word::Name),
    (&["fresha"], false, Word::Name),
    (&["freshbooks"], false, Word::Name),
    (&["freshsales"], false, Word::Name),
    (&["freshservice"], false, Word::Name),
    (&["front"], false, Word::Ordinary),
    (&["fullstory"], false, Word::Name),
    (&["garmin"], false, Word::Name),
    (&["ghost"], false, Word::Ordinary),
    (&["gitea"], false, Word::Name),
    (&["glide"], false, Word::Ordinary),
    (&["gocardless"], false, Word::Name),
    (&["gong"], false, Word::Capital),
    (&["google", "ads"], false, Word::Name),
    (&["google", "analytics"], false, Word::Name),
    (&["google", "chat"], true, Word::Name),
    (&["google", "classroom"], false, Word::Name),
    (&["google", "keep"], false, Word::Name),
    (&["google", "meet"], false, Word::Name),
    (&["gorgias"], false, Word::Name),
    (&["gotomeeting"], false, Word::Name),
    (&["grafana"], false, Word::Name),
    (&["greenhouse"], false, Word::Capital),
    (&["gumroad"], false, Word::Name),
    (&["gusto"], false, Word::Name),
    (&["hacker", "news"], false, Word::Name),
    (&["halaxy"], false, Word::Name),
    (&["happyfox"], false, Word::Name),
    (&["harvest"], false, Word::Capital),
    (&["heap"], false, Word::Ordinary),
    (&["height"], false, Word::Capital),
    (&["help", "scout"], false, Word::Name),
    (&["helpscout"], false, Word::Name),
    (&["helpshift"], false, Word::Name),
    (&["heroku"], false, Word::Name),
    (&["hibob"], false, Word::Name),
    (&["hive"], false, Word::Capital),
    (&["holded"], false, Word::Name),
    (&["honeybadger"], false, Word::Name),
    (&["honeycomb"], false, Word::Capital),
    (&["hootsuite"], false, Word::Name),
    (&["hotjar"], false, Word::Name),
    (&["hubstaff"], false, Word::Name),
    (&["humaans"], false, Word::Name),
    (&["ifttt"], false, Word::Name),
    (&["imessage"], true, Word::Name),
    (&["insightly"], false, Word::Name),
    (&["iterable"], false, Word::Name),
    (&["iyzico"], false, Word::Name),
    (&["jazzhr"], false, Word::Name),
    (&["jenkins"], false, Word::Name),
    (&["jobvite"], false, Word::Name),
    (&["jotform"], false, Word::Name),
    (&["justworks"], false, Word::Name),
    (&["kajabi"], false, Word::Name),
    (&["kakaotalk"], false, Word::Name),
    (&["keap"], false, Word::Name),
    (&["kibana"], false, Word::Name),
    (&["klarna"], false, Word::Name),
    (&["klaviyo"], false, Word::Name),
    (&["kustomer"], false, Word::Name),
    (&["lattice"], false, Word::Capital),
    (&["lazada"], false, Word::Name),
    (&["lemlist"], false, Word::Name),
    (&["lever"], false, Word::Capital),
    (&["lexoffice"], false, Word::Name),
    (&["lightspeed"], false, Word::Capital),
    (&["linktree"], false, Word::Name),
    (&["livechat"], false, Word::Name),
    (&["loggly"], false, Word::Name),
    (&["logrocket"], false, Word::Name),
    (&["logseq"], false, Word::Name),
    (&["looker"], false, Word::Name),
    (&["loom"], false, Word::Capital),
    (&["lucidchart"], false, Word::Name),
    (&["magento"], false, Word::Name),
    (&["mailerlite"], false, Word::Name),
    (&["mailgun"], false, Word::Name),
    (&["mailjet"], false, Word::Name),
    (&["make"], false, Word::Ordinary),
    (&["mastodon"], false, Word::Name),
    (&["matomo"], false, Word::Name),
    (&["matrix"], true, Word::Ordinary),
    (&["mattermost"], true, Word::Name),
    (&["medium"], false, Word::Ordinary),
    (&["mercado", "libre"], false, Word::Name),
    (&["mercado", "pago"], false, Word::Name),
    (&["mercadolibre"], false, Word::Name),
    (&["mercadopago"], false, Word::Name),
    (&["mercury"], false, Word::Ordinary),
    (&["metabase"], false, Word::Name),
    (&["microsoft", "forms"], false, Word::Name),
    (&["microsoft", "to", "do"], false, Word::Name),
    (&["mindbody"], false, Word::Name),
    (&["miro"], false, Word::Name),
    (&["missive"], false, Word::Name),
    (&["mixpanel"], false, Word::Name),
    (&["mollie"], false, Word::Name),
    (&["moneybird"], false, Word::Name),
    (&["monzo"], false, Word::Name),
    (&["moodle"], false, Word::Name),
    (&["mpesa"], false, Word::Name),
    (&["ms", "forms"], false, Word::Name),
    (&["ms", "to", "do"], false, Word::Name),
    (&["mural"], false, Word::Ordinary),
    (&["myfitnesspal"], false, Word::Name),
    (&["n8n"], false, Word::Name),
    (&["netlify"], false, Word::Name),
    (&["netsuite"], false, Word::Name),
    (&["new", "relic"], false, Word::Name),
    (&["nifty"], false, Word::Capital),
    (&["nocodb"], false, Word::Name),
    (&["nookal"], false, Word::Name),
    (&["notability"], false, Word::Name),
    (&["obsidian"], false, Word::Capital),
    (&["odoo"], false, Word::Name),
    (&["omnifocus"], false, Word::Name),
    (&["omnisend"], false, Word::Name),
    (&["onenote"], false, Word::Name),
    (&["opsgenie"], false, Word::Name),
    (&["oura"], false, Word::Name),
    (&["paddle"], false, Word::Ordinary),
    (&["pandadoc"], false, Word::Name),
    (&["papertrail"], false, Word::Name),
    (&["patreon"], false, Word::Name),
    (&["paychex"], false, Word::Name),
    (&["payoneer"], false, Word::Name),
    (&["paystack"], false, Word::Name),
    (&["paytm"], false, Word::Name),
    (&["personio"], false, Word::Name),
    (&["pingdom"], false, Word::Name),
    (&["pinterest"], false, Word::Name),
    (&["pipedream"], false, Word::Name),
    (&["pipefy"], false, Word::Name),
    (&["plane"], false, Word::Capital),
    (&["plausible"], false, Word::Ordinary),
    (&["pleo"], false, Word::Name),
    (&["podio"], false, Word::Name),
    (&["postgres"], false, Word::Name),
    (&["posthog"], false, Word::Name),
    (&["postmark"], false, Word::Name),
    (&["power", "automate"], false, Word::Name),
    (&["power", "bi"], false, Word::Name),
    (&["prestashop"], false, Word::Name),
    (&["productboard"], false, Word::Name),
    (&["prometheus"], false, Word::Capital),
    (&["proton", "mail"], false, Word::Name),
    (&["protonmail"], false, Word::Name),
    (&["pumble"], false, Word::Name),
    (&["qonto"], false, Word::Name),
    (&["qualtrics"], false, Word::Name),
    (&["quip"], false, Word::Name),
    (&["rakuten"], false, Word::Name),
    (&["ramp"], false, Word::Ordinary),
    (&["raygun"], false, Word::Name),
    (&["razorpay"], false, Word::Name),
    (&["recruitee"], false, Word::Name),
    (&["recurly"], false, Word::Name),
    (&["redash"], false, Word::Name),
    (&["reddit"], false, Word::Name),
    (&["redmine"], false, Word::Name),
    (&["retool"], false, Word::Name),
    (&["revolut"], false, Word::Name),
    (&["ringcentral"], false, Word::Name),
    (&["rippling"], false, Word::Name),
    (&["rocket", ".", "chat"], true, Word::Name),
    (&["rollbar"], false, Word::Name),
    (&["rootly"], false, Word::Name),
    (&["sage"], false, Word::Ordinary),
    (&["salesloft"], false, Word::Name),
    (&["savvycal"], false, Word::Name),
    (&["schoology"], false, Word::Name),
    (&["seesaw"], false, Word::Capital),
    (&["segment"], false, Word::Capital),
    (&["sendcloud"], false, Word::Name),
    (&["sendgrid"], false, Word::Name),
    (&["sendinblue"], false, Word::Name),
    (&["servicenow"], false, Word::Name),
    (&["setmore"], false, Word::Name),
    (&["sevdesk"], false, Word::Name),
    (&["shipbob"], false, Word::Name),
    (&["shippo"], false, Word::Name),
    (&["shipstation"], false, Word::Name),
    (&["shopee"], false, Word::Name),
    (&["shopware"], false, Word::Name),
    (&["shortcut"], false, Word::Ordinary),
    (&["signal"], true, Word::Ordinary),
    (&["simplepractice"], false, Word::Name),
    (&["simplybook"], false, Word::Name),
    (&["skype"], true, Word::Name),
    (&["slab"], false, Word::Ordinary),
    (&["smartrecruiters"], false, Word::Name),
    (&["smartsheet"], false, Word::Name),
    (&["snapchat"], false, Word::Name),
    (&["snowflake"], false, Word::Ordinary),
    (&["snyk"], false, Word::Name),
    (&["softr"], false, Word::Name),
    (&["sonarqube"], false, Word::Name),
    (&["spendesk"], false, Word::Name),
    (&["splunk"], false, Word::Name),
    (&["spotify"], false, Word::Name),
    (&["sprout", "social"], false, Word::Name),
    (&["square"], false, Word::Ordinary),
    (&["squarespace"], false, Word::Name),
    (&["squareup"], false, Word::Name),
    (&["statuspage"], false, Word::Name),
    (&["strava"], false, Word::Name),
    (&["substack"], false, Word::Name),
    (&["sumup"], false, Word::Name),
    (&["supabase"], false, Word::Name),
    (&["superhuman"], false, Word::Name),
    (&["surveymonkey"], false, Word::Name),
    (&["tableau"], false, Word::Name),
    (&["tally"], false, Word::Ordinary),
    (&["teachable"], false, Word::Name),
    (&["teamcity"], false, Word::Name),
    (&["teamtailor"], false, Word::Name),
    (&["teamwork"], false, Word::Ordinary),
    (&["testflight"], false, Word::Name),
    (&["thinkific"], false, Word::Name),
    (&["threads"], false, Word::Ordinary),
    (&["threema"], false, Word::Name),
    (&["ticktick"], false, Word::Name),
    (&["tidio"], false, Word::Name),
    (&["tiktok"], false, Word::Name),
    (&["toast"], false, Word::Ordinary),
    (&["toggl"], false, Word::Name),
    (&["tokopedia"], false, Word::Name),
    (&["travis", "ci"], false, Word::Name),
    (&["trendyol"], false, Word::Name),
    (&["trengo"], false, Word::Name),
    (&["trustpilot"], false, Word::Name),
    (&["tumblr"], false, Word::Name),
    (&["twitch"], false, Word::Name),
    (&["uptime", "robot"], false, Word::Name),
    (&["uptimerobot"], false, Word::Name),
    (&["vagaro"], false, Word::Name),
    (&["vercel"], false, Word::Name),
    (&["viber"], true, Word::Name),
    (&["victorops"], false, Word::Name),
    (&["vimeo"], false, Word::Name),
    (&["vonage"], false, Word::Name),
    (&["wave"], false, Word::Ordinary),
    (&["webex"], true, Word::Name),
    (&["webflow"], false, Word::Name),
    (&["wechat"], true, Word::Name),
    (&["whoop"], false, Word::Capital),
    (&["wistia"], false, Word::Name),
    (&["wix"], false, Word::Name),
    (&["wordpress"], false, Word::Name),
    (&["workable"], false, Word::Name),
    (&["workato"], false, Word::Name),
    (&["workday"], false, Word::Capital),
    (&["wrike"], false, Word::Name),
    (&["yelp"], false, Word::Name),
    (&["ynab"], false, Word::Name),
    (&["yotpo"], false, Word::Name),
    (&["youtrack"], false, Word::Name),
    (&["zalando"], false, Word::Name),
    (&["zalo"], false, Word::Name),
    (&["zapier"], false, Word::Name),
    (&["zenefits"], false, Word::Name),
    (&["zettle"], false, Word::Name),
    (&["zoho"], false, Word::Name),
    (&["zoho", "books"], false, Word::Name),
    (&["zoho", "crm"], false, Word::Name),
    (&["zoho", "desk"], false, Word::Name),
    (&["zoho", "projects"], false, Word::Name),
    (&["zulip"], true, Word::Name),
];

/// Nouns only tools have: a capitalised word before one of them is a tool's name.
const TOOL_NOUNS: &[&str] = &[
    "account",
    "accounts",
    "app",
    "workspace",
    "integration",
    "api",
    "bot",
    "dashboard",
    "instance",
    "plugin",
    "extension",
];

/// Nouns a known-elsewhere ordinary word needs next to it ("Front inbox", "Signal group").
const PLACE_NOUNS: &[&str] = &[
    "account",
    "app",
    "workspace",
    "inbox",
    "channel",
    "channels",
    "group",
    "chat",
    "project",
    "projects",
    "board",
    "boards",
    "form",
    "forms",
    "base",
    "page",
    "profile",
    "post",
    "posts",
    "events",
    "event",
    "video",
    "videos",
    "recording",
    "recordings",
    "timesheet",
    "timesheets",
    "hours",
    "ticket",
    "tickets",
    "api",
    "doc",
    "docs",
    "file",
    "files",
    "sheet",
    "candidates",
    "candidate",
    "hires",
    "call",
    "calls",
    "team",
];

/// Prepositions before a tool's name ("post it to Zulip", "from our Basecamp project").
const BEFORE: &[&str] = &["to", "into", "in", "on", "from", "via", "using", "with", "through", "onto"];

/// Capitalised words that are not tools' names.
const NOT_NAMES: &[&str] = &[
    "i",
    "google",
    "microsoft",
    "apple",
    "amazon",
    "the",
    "a",
    "my",
    "our",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "utc",
    "gmt",
    "pm",
    "am",
    "ok",
];

/// The tools `toks` names that the catalog does not know, deduplicated, in order. `mentions`
/// are the catalog's own, whose words are never unknown.
pub(crate) fn unknown_tools(toks: &Toks, mentions: &[Mention]) -> Vec<Unknown> {
    let mut out: Vec<Unknown> = Vec::new();
    let known_at = |k: usize| mentions.iter().any(|m| m.pos == k);
    let mut i = 0;
    while i < toks.len() {
        // "the r/selfhosted posts": a subreddit is Reddit's.
        if toks.is(i, "r")
            && toks.is(i + 1, "/")
            && toks.get(i + 2).is_some_and(|t| t.glued && t.kind == Kind::Word)
        {
            if !out.iter().any(|u| u.name == "Reddit") {
                out.push(Unknown {
                    name: "Reddit".into(),
                    pos: i,
                    end: i + 3,
                    chat: false,
                    negated: after_negator(toks, i),
                });
            }
            i += 3;
            continue;
        }
        let found = if known_at(i) { None } else { elsewhere_at(toks, i).or_else(|| product_at(toks, i)) };
        match found {
            Some((len, chat)) => {
                // As written: "Cal.com" glued, "Help Scout" with its space.
                let mut name = String::new();
                for k in i..i + len {
                    let Some(t) = toks.get(k) else { break };
                    if k > i && !t.glued {
                        name.push(' ');
                    }
                    name.push_str(&t.orig);
                }
                let negated = after_negator(toks, i);
                match out.iter_mut().find(|u| u.name.eq_ignore_ascii_case(&name)) {
                    // "it's Basecamp, ... leave Basecamp out": named again to be left out.
                    Some(u) => u.negated |= negated,
                    None => out.push(Unknown { name, pos: i, end: i + len, chat, negated }),
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// A name of [`KNOWN_ELSEWHERE`] at `i`: (tokens spanned, chat tool).
fn elsewhere_at(toks: &Toks, i: usize) -> Option<(usize, bool)> {
    let t = toks.get(i)?;
    if t.kind != Kind::Word {
        return None;
    }
    // The entries whose first word is this one: a binary search, as this runs for every word.
    let first: &str = &t.text;
    let from = KNOWN_ELSEWHERE.partition_point(|e| e.0[0] < first);
    // The longest name that is there: "zoho crm" rather than "zoho".
    let &(words, chat, how) = KNOWN_ELSEWHERE[from..]
        .iter()
        .take_while(|e| e.0[0] == first)
        .filter(|(words, _, _)| toks.seq(i, words))
        .max_by_key(|(words, _, _)| words.len())?;
    let ok = match how {
        Word::Name => true,
        Word::Ordinary | Word::Capital => {
            let capital = t.orig.starts_with(|c: char| c.is_uppercase());
            // "Lever: candidate moved to onsite -> ...": a heading that names the tool.
            if capital && i == 0 && toks.is(words.len(), ":") {
                return Some((words.len(), chat));
            }
            let capital_mid = capital && i > 0 && !toks.is_break(i - 1);
            // "our Front inbox", "the Square orders": a place or a thing the tool holds.
            let after = i + words.len();
            let next_noun = toks.is_any(after, PLACE_NOUNS) || super::things(toks.word(after)).is_some();
            capital_mid && (how == Word::Capital || next_noun || toks.is_any(i - 1, BEFORE))
        }
    };
    ok.then_some((words.len(), chat))
}

/// A product-like name at `i` where a tool sits: (tokens spanned, chat tool).
fn product_at(toks: &Toks, i: usize) -> Option<(usize, bool)> {
    let t = toks.get(i)?;
    if t.kind != Kind::Word || i == 0 || toks.is_break(i - 1) || NOT_NAMES.contains(&&*t.text) {
        return None;
    }
    let orig: &str = &t.orig;
    let mut chars = orig.chars();
    if !chars.next().is_some_and(char::is_uppercase) || orig.ends_with("'s") {
        return None;
    }
    // "ActiveCampaign", "BambooHR": a capital after a lower-case letter.
    let camel = orig.as_bytes().windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    // "Cal.com", "Rocket.Chat": a dotted name, glued.
    let dotted = toks.is(i + 1, ".")
        && toks.get(i + 1).is_some_and(|t| t.glued)
        && toks.get(i + 2).is_some_and(|t| t.glued && t.kind == Kind::Word)
        && toks.is_any(i + 2, &["com", "io", "co", "app", "ai", "so", "dev", "chat", "me"]);
    // "Przelewy24", "Bitrix24": letters then digits.
    // (Not "P1" or "Q3": three letters at least.)
    let numbered = orig.bytes().any(|b| b.is_ascii_digit())
        && orig.bytes().take_while(u8::is_ascii_alphabetic).count() >= 3;
    let len = if dotted { 3 } else { 1 };
    let placed =
        toks.is_any(i - 1, BEFORE) || toks.is_any(i + len, PLACE_NOUNS) || (numbered && toks.is(i - 1, "by"));
    // "Przelewy24 can send webhook", "our CRM Foo sends webhooks": what only a tool does.
    let hooks = (i + len..(i + len + 4).min(toks.len())).any(|k| toks.is_any(k, &["webhook", "webhooks"]))
        && (i + len..(i + len + 3).min(toks.len()))
            .any(|k| toks.is_any(k, &["send", "sends", "fire", "fires", "call", "calls"]));
    let named = (camel || dotted || numbered) && placed || toks.is_any(i + len, TOOL_NOUNS) || hooks;
    // "Jane App": a capitalised noun is part of the name.
    let len = if toks.is_any(i + len, TOOL_NOUNS)
        && toks.get(i + len).is_some_and(|n| n.orig.starts_with(char::is_uppercase))
    {
        len + 1
    } else {
        len
    };
    (named && !orig.bytes().all(|b| b.is_ascii_uppercase())).then_some((len, false))
}

#[cfg(test)]
mod tests {
    use super::super::mentions;
    use super::*;

    fn unknown(s: &str) -> Vec<String> {
        let t = Toks::new(s);
        unknown_tools(&t, &mentions(&t)).into_iter().map(|u| u.name).collect()
    }

    #[test]
    fn known_elsewhere_is_sorted() {
        assert!(KNOWN_ELSEWHERE.is_sorted_by(|a, b| a.0 < b.0), "sort KNOWN_ELSEWHERE by its words");
    }

    #[test]
    fn tools_kiln_lacks_are_kept_by_name() {
        assert_eq!(unknown("post it to Zulip"), ["Zulip"]);
        assert_eq!(unknown("copy the to-dos from our Basecamp project into Asana"), ["Basecamp"]);
        // The longest name; an ordinary word before a thing the tool holds; a heading; a subreddit.
        assert_eq!(unknown("send the won deals from zoho crm to me"), ["zoho crm"]);
        assert_eq!(unknown("post Front conversations tagged 'billing' into #help"), ["Front"]);
        assert_eq!(unknown("Lever: candidate moved to onsite → tell #recruiting"), ["Lever"]);
        assert_eq!(unknown("post the r/rust posts to #reading"), ["Reddit"]);
        let t = Toks::new("it's Basecamp, you can't reach it. leave Basecamp out");
        assert!(unknown_tools(&t, &mentions(&t)).iter().all(|u| u.negated), "named again to be left out");
        assert_eq!(unknown("move the front desk schedule"), Vec::<String>::new());
        assert_eq!(unknown("summarise Figma comments every Friday"), ["Figma"]);
        assert_eq!(unknown("send alerts in Mattermost"), ["Mattermost"]);
        assert_eq!(unknown("forward my HelpScout inbox to Slack"), ["HelpScout"]);
        assert_eq!(unknown("when a Webflow form is submitted, email me"), ["Webflow"]);
        assert_eq!(unknown("post to zulip and mattermost, and Zulip again"), ["zulip", "mattermost"]);
        assert_eq!(unknown("add new subscribers to my Mailerlite account"), ["Mailerlite"]);
        assert_eq!(unknown("sync bookings from Cal.com to Notion"), ["Cal.com"]);
        assert_eq!(unknown("log it in ActiveCampaign"), ["ActiveCampaign"]);
        assert_eq!(unknown("reply from our Front inbox"), ["Front"]);
        let t = Toks::new("leave out Zulip, post to Mattermost");
        let negated: Vec<bool> = unknown_tools(&t, &mentions(&t)).iter().map(|u| u.negated).collect();
        assert_eq!(negated, [true, false]);
        assert_eq!(unknown("post it on Medium"), ["Medium"]);
    }

    #[test]
    fn people_places_companies_and_words_are_not_tools() {
        assert_eq!(unknown("email Sarah the weekly report"), Vec::<String>::new());
        assert_eq!(unknown("send it to Sarah every Monday"), Vec::<String>::new());
        assert_eq!(unknown("post the numbers for our Lisbon office"), Vec::<String>::new());
        assert_eq!(unknown("summarise Acme's invoices from my inbox"), Vec::<String>::new());
        assert_eq!(unknown("post to the Sales channel in Slack"), Vec::<String>::new());
        assert_eq!(unknown("every workday at 8:30, post to slack"), Vec::<String>::new());
        assert_eq!(unknown("the front page and a medium size"), Vec::<String>::new());
        assert_eq!(unknown("Harvest the data from Gmail"), Vec::<String>::new());
        assert_eq!(unknown("post it in Slack and Notion"), Vec::<String>::new());
        assert_eq!(unknown("send a report to my manager John via email"), Vec::<String>::new());
        assert_eq!(unknown("We're in London, post it to #team"), Vec::<String>::new());
        assert_eq!(unknown("log in to my Google account"), Vec::<String>::new());
        assert_eq!(unknown("check the NASA feed"), Vec::<String>::new());
    }
}
