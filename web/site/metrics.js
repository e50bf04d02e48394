// Prometheus text exposition format (version 0.0.4), the part the dashboard reads: samples
// `name{label="value",...} number [timestamp]`; comments and blank lines are skipped.

/** Parses exposition text into samples `{ name, labels, value }`. */
export function parse(text) {
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') continue;
    samples.push({ name: m[1], labels: m[3] ? labels(m[3]) : {}, value });
  }
  return samples;
}

function labels(body) {
  const out = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let m;
  while ((m = re.exec(body)) !== null) {
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/** Sums the samples named `name`, grouped by the value of `label`. */
export function sumBy(samples, name, label) {
  const out = new Map();
  for (const s of samples) {
    if (s.name !== name) continue;
    const k = s.labels[label] ?? '';
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}
