// Plain words for what the engine reports: the agent as a flow of nodes, the requirements as
// labelled details, session titles, and which question a response asks. No DOM here, so the
// tests can check these functions on their own.

/** A requirement's label and whether the panel can change it (by sending a message). */
const FIELDS = {
  goal: ['Goal', false],
  integrations: ['Accounts', false],
  trigger: ['Starts', false],
  days: ['Days', true],
  time: ['Time', true],
  interval: ['Every', false],
  day_of_month: ['Day of the month', false],
  event: ['When', false],
  timezone: ['Time zone', true],
  channel: ['Posts to', true],
  email_filter: ['Which emails', false],
  recipients: ['Sends to', false],
  actions: ['Does', false],
};

/** What an action's verb does, in words (the engine's vocabulary; others are spelled out). */
const VERBS = {
  search_messages: 'Find emails',
  list_events: 'Read calendar events',
  list_issues: 'Read issues',
  read_rows: 'Read rows',
  list_items: 'Read new items',
  summarise: 'Summarise them',
  translate: 'Translate them',
  classify: 'Sort them into categories',
  post_message: 'Post a message',
  send_email: 'Send an email',
  append_row: 'Add a row',
  create_page: 'Create a page',
  create_issue: 'Create an issue',
  create_task: 'Create a task',
  create_event: 'Create a calendar event',
  send: 'Send the result',
  notify: 'Notify you',
};

const TRIGGERS = { schedule: 'On a schedule', event: 'When something happens', manual: 'When you start it' };
const EMAIL_FILTERS = { 'is:unread': 'unread emails', 'is:starred': 'starred emails', 'is:important': 'important emails' };

/** Monday first, as the engine writes them ("Mon-Fri", "Mon, Wed"). */
export const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function spell(verb) {
  const words = verb.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function verbWords(verb) {
  return VERBS[verb] || spell(verb);
}

/** The requirements as details in plain words: `[{ field, label, value, editable }]`. */
export function plainRequirements(requirements, phase) {
  const rows = requirements.map((r) => {
    const [label, editable] = FIELDS[r.field] || [spell(r.field), false];
    let value = r.value;
    if (r.field === 'trigger') value = TRIGGERS[r.value] || r.value;
    else if (r.field === 'actions') value = r.value.split(', ').map((v) => verbWords(v).toLowerCase()).join(', ');
    else if (r.field === 'email_filter') value = EMAIL_FILTERS[r.value] || r.value;
    else if (r.field === 'days') value = daysWords(r.value);
    return { field: r.field, label, value, editable };
  });
  // A schedule without its time zone: the zone can be set from here too.
  const scheduled = requirements.some((r) => r.field === 'trigger' && r.value === 'schedule');
  if (scheduled && !requirements.some((r) => r.field === 'timezone') && phase !== 'IDLE') {
    rows.push({ field: 'timezone', label: 'Time zone', value: 'not set yet', editable: true });
  }
  return rows;
}

/** "Mon-Fri" -> "Monday to Friday"; "Mon, Wed" -> "Monday, Wednesday". */
function daysWords(value) {
  if (value === 'Mon-Sun') return 'every day';
  if (value === 'Mon-Fri') return 'weekdays (Monday to Friday)';
  return value.split(', ').map((part) => part.split('-').map((d) => DAY_NAMES.find((n) => n.startsWith(d)) || d).join(' to ')).join(', ');
}

/** The days (0 = Monday) in the engine's text of them: "Mon-Fri", "Mon, Wed, Fri", "Tue-Thu, Sun". */
export function parseDays(value) {
  const on = new Set();
  const index = (d) => DAY_NAMES.findIndex((n) => n.toLowerCase().startsWith(d.trim().toLowerCase().slice(0, 3)));
  for (const part of (value || '').split(',')) {
    const [from, to] = part.split('-').map(index);
    if (from < 0) continue;
    for (let i = from; i <= (to >= 0 ? to : from); i++) on.add(i);
  }
  return on;
}

/** The message that sets these days (0 = Monday), in words the engine understands. */
export function daysSentence(days) {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return 'every day';
  if (sorted.join() === '0,1,2,3,4') return 'on weekdays';
  const names = sorted.map((i) => DAY_NAMES[i]);
  return `on ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0]}`;
}

/** A session's title from its goal: the schedule clause dropped, capitalised, short. */
export function shortTitle(goal) {
  if (!goal) return '';
  let t = goal.trim().replace(/\s+/g, ' ');
  // "Every weekday at 9, summarise ..." -> "Summarise ..."
  const lead = /^(every|each|daily|weekly|monthly|on|at|when|whenever|once)\b[^,]{0,60},\s*/i.exec(t);
  if (lead && t.length > lead[0].length + 8) t = t.slice(lead[0].length);
  t = t.charAt(0).toUpperCase() + t.slice(1);
  return t.length > 60 ? `${t.slice(0, 59).replace(/\s+\S*$/, '')}…` : t;
}

/**
 * Which question a response ends with: 'timezone', 'days', 'channel', 'time' or null. From
 * its choice actions when it offers some (`choose` entries whose values are time zones), else
 * from its words.
 */
export function questionKind(text, actions = []) {
  const choices = actions.filter((a) => a.kind === 'choose');
  if (choices.some((a) => a.value === 'UTC' || /^[A-Z][A-Za-z_]+\/[A-Za-z_/+-]+$/.test(a.value))) return 'timezone';
  const last = text.split('\n').filter((l) => l.trim()).at(-1) || '';
  if (!/\?/.test(last)) return null;
  if (/time ?zone/i.test(last)) return 'timezone';
  if (/which days?|what days?|on which day/i.test(last)) return 'days';
  if (/which channel|what channel|where should .* post/i.test(last)) return 'channel';
  if (/what time|which time|at what time/i.test(last)) return 'time';
  return null;
}

/** "Google Calendar" -> "GC": the letters on an integration's logo. */
function initials(name) {
  return name.split(/[\s/]+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

/**
 * The agent as nodes of a flow, in order: the trigger, then each step (the last ones, which
 * only receive, are its destinations). From the stored spec and its dry run when there is a
 * draft, else a preview from the requirements. Each node: `{ role, icon, badge, what, who,
 * io, sample, target, step, missing }`.
 */
export function flowNodes(v, spec, run, { providerName, connected }) {
  if (!v) return [];
  const req = Object.fromEntries(v.requirements.map((r) => [r.field, r.value]));
  const nodes = [];
  const when = () => {
    if (spec) {
      const t = spec.trigger;
      if (t.kind === 'schedule') return { what: capital(t.description), who: `Time zone: ${t.timezone}` };
      if (t.kind === 'event') return { what: `When ${providerName(t.integration)} reports ${t.event.replace(/[._]/g, ' ')}`, who: '' };
      return { what: 'When you start it', who: '' };
    }
    if (req.trigger === 'schedule') {
      const days = req.days ? daysWords(req.days) : null;
      const what = [days ? capital(days) : 'On a schedule', req.time ? `at ${req.time}` : null, req.interval || null].filter(Boolean).join(' ');
      return { what, who: req.timezone ? `Time zone: ${req.timezone}` : 'Time zone: not set yet', missing: !req.timezone };
    }
    if (req.trigger === 'event') return { what: `When ${req.event || 'something happens'}`, who: '' };
    if (req.trigger === 'manual') return { what: 'When you start it', who: '' };
    return null;
  };
  const trigger = when();
  if (trigger) nodes.push({ role: 'trigger', icon: 'trigger', badge: '▶', ...trigger });
  if (spec) {
    const steps = spec.steps;
    const ran = new Map((run ? run.steps : []).map((s) => [s.id, s]));
    steps.forEach((s, i) => {
      const [provider, verb] = s.action.split('.');
      const account = s.integration ? providerName(s.integration) : provider === 'llm' ? 'Kiln\'s AI' : 'Kiln';
      const isConnected = s.integration ? connected.includes(s.integration) : true;
      const sample = ran.get(s.id);
      const receives = i > 0 && !steps.slice(i + 1).some((later) => Object.values(later.inputs).some((x) => x.includes(`{{${s.id}.`)));
      const node = {
        role: receives ? 'destination' : 'step',
        step: s.id,
        icon: s.integration || provider,
        badge: s.integration ? initials(account) : provider === 'llm' ? 'AI' : 'K',
        what: verbWords(verb),
        who: s.integration ? `${account} account${isConnected ? '' : ' (not connected yet)'}` : account,
        io: '',
        sample: '',
      };
      const inputs = Object.entries(s.inputs);
      if (s.inputs.channel) node.target = { prefix: 'to', label: s.inputs.channel, field: 'channel' };
      if (s.inputs.query) node.io = `Reads: ${EMAIL_FILTERS[s.inputs.query] || s.inputs.query}`;
      else if (s.inputs.to) node.io = `To: ${s.inputs.to === 'me' ? 'you' : s.inputs.to}`;
      else if (!inputs.length || inputs.every(([, x]) => x.includes('{{'))) node.io = i > 0 ? 'Uses the step before' : '';
      if (sample) {
        const out = Object.values(sample.outputs)[0];
        const text = sample.inputs.text;
        node.sample = receives && text ? `with “${text}”` : out || '';
      }
      nodes.push(node);
    });
  } else {
    for (const name of (req.integrations || '').split(', ').filter(Boolean)) {
      nodes.push({ role: 'step', icon: name.toLowerCase(), badge: initials(name), what: name, who: 'Steps are worked out once you confirm the details', io: '', sample: '' });
    }
  }
  return nodes;
}

function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
