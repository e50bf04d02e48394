// Puts the builder page's module graph (app.js and what it imports: server.js and
// wasm-bindgen's pkg/kiln_web.js) inline into index.html as one module script; web/build.sh
// runs it on web/dist. Why: as separate files, the modules ran only once Chromium's tasks for
// their loading got their turn behind the wasm's streaming compile, 10-40 ms after the files
// had arrived; inline, they run when the document is parsed and wait for nothing but the
// engine (docs/web.md). Each module becomes a function scope returning its exports.
//
// It knows exactly the import and export forms these files use and fails on any other, so a
// new form is noticed here, not in the browser.
//
// Usage: node web/inline.mjs DIST   (rewrites DIST/index.html, removes DIST/app.js)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const dist = process.argv[2];
if (!dist) throw new Error('usage: node web/inline.mjs DIST');
const ENTRY = 'app.js';
const TAG = `<script type="module" src="${ENTRY}"></script>`;

const fail = (file, why) => {
  throw new Error(`web/inline.mjs: ${file}: ${why}; extend web/inline.mjs or keep to the forms it knows`);
};

const order = []; // modules in evaluation order (dependencies first)
const ids = new Map(); // path -> variable holding its exports
const done = new Set(); // paths already in `order`

/** Rewrites `file` (a path relative to dist) and its imports into `order`; returns its variable. */
function add(file) {
  if (ids.has(file)) {
    // A module's exports are complete only after its body ran: a cycle cannot be inlined so.
    if (!done.has(file)) fail(file, 'imported in a cycle');
    return ids.get(file);
  }
  const id = `__module${ids.size}`;
  ids.set(file, id);
  let code = readFileSync(join(dist, file), 'utf8');

  // import X, * as Y from './m.js';  import * as Y from './m.js';  import X from './m.js';
  // import { a, b as c } from './m.js';
  code = code.replace(/^import\s+(.+?)\s+from\s+'(\.{1,2}\/[^']+)';$/gm, (_, what, spec) => {
    const dep = add(normalize(join(dirname(file), spec)));
    const named = /^\{([^}]*)\}$/.exec(what);
    if (named) {
      return `const { ${named[1].split(',').map((s) => s.trim()).filter(Boolean)
        .map((s) => s.replace(/^(\w+)\s+as\s+(\w+)$/, '$1: $2')).join(', ')} } = ${dep};`;
    }
    const m = /^(?:(\w+)\s*,\s*)?(?:\*\s+as\s+(\w+))?$|^(\w+)$/.exec(what);
    if (!m || !(m[1] || m[2] || m[3])) fail(file, `unknown import form "${what}"`);
    const out = [];
    if (m[1] || m[3]) out.push(`const ${m[1] || m[3]} = ${dep}.default;`);
    if (m[2]) out.push(`const ${m[2]} = ${dep};`);
    return out.join(' ');
  });

  const exported = [];
  // export function f / export async function f / export class C / export const c
  code = code.replace(/^export\s+((?:async\s+)?function\*?|class|const)\s+(\w+)/gm, (_, kind, name) => {
    exported.push([name, name]);
    return `${kind} ${name}`;
  });
  // export { a, b as default };
  code = code.replace(/^export\s*\{([^}]*)\};?$/gm, (_, list) => {
    for (const part of list.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^(\w+)(?:\s+as\s+(\w+))?$/.exec(part);
      if (!m) fail(file, `unknown export "${part}"`);
      exported.push([m[2] || m[1], m[1]]);
    }
    return '';
  });
  const left = /^\s*(?:import\b(?!\.meta)|export\b).*$/m.exec(code) || /\bimport\s*\(/.exec(code);
  if (left) fail(file, `unknown module syntax "${left[0].trim()}"`);
  // The module's own URL, as it was when the file was loaded by itself.
  code = code.replaceAll('import.meta.url', `new URL(${JSON.stringify(file)}, document.baseURI).href`);
  if (/<\/script/i.test(code)) fail(file, 'contains "</script", which would end the inline script');

  const exports = exported.map(([as, name]) => `${JSON.stringify(as)}: ${name}`).join(', ');
  order.push(`// ${file}\nconst ${id} = (() => {\n${code}\nreturn Object.freeze({ ${exports} });\n})();\n`);
  done.add(file);
  return id;
}

add(ENTRY);
let html = readFileSync(join(dist, 'index.html'), 'utf8');
if (!html.includes(TAG)) fail('index.html', `no ${TAG}`);
html = html.replace(TAG, () => `<script type="module">\n${order.join('\n')}</script>`);
// Preloads of what is now inline would only download it again.
for (const file of ids.keys()) html = html.replace(new RegExp(`\\s*<link rel="modulepreload" href="${file}">`), '');
if (/rel="modulepreload"/.test(html)) fail('index.html', 'a modulepreload of a module that is not inlined');
writeFileSync(join(dist, 'index.html'), html);
// Only the builder page used app.js; server.js and pkg/ stay (the dashboard imports
// server.js; the tests load pkg/kiln_web.js by itself).
rmSync(join(dist, ENTRY));
