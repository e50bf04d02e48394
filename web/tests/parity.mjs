// The browser half of the parity test (tests/tests/browser.rs): plays a `kiln chat` script
// through the UI and writes each response's chunk texts and phases as JSON, for the Rust test
// to compare with what the wasmtime host answered. Script lines as in `kiln chat`: "/approve"
// and "/deny" answer the simulated consent screen, "/back" is the Back button, anything else
// is typed.
import { readFile, writeFile } from 'node:fs/promises';
import { consent, open, response, say, scenario } from './lib.mjs';

const script = JSON.parse(await readFile(process.env.KILN_PARITY_SCRIPT, 'utf8'));

await scenario('parity script through the browser build', async (b) => {
  const page = await b.context.newPage();
  await open(page);
  const out = [];
  for (const line of script) {
    let r;
    if (line === '/approve' || line === '/deny') {
      r = await consent(page, line === '/approve');
    } else if (line === '/back') {
      const before = await page.locator('.msg.kiln:not(.greeting)').count();
      await page.click('#btn-back');
      r = await response(page, before);
    } else {
      r = await say(page, line);
    }
    out.push({ phases: r.chunkPhases, texts: r.texts });
  }
  await writeFile(process.env.KILN_PARITY_OUT, JSON.stringify(out, null, 1));
});
