// The HTML timeline of a real trace of a few hundred nodes, rendered by Debian's Chromium through
// Playwright: no page error, one SVG row per drawn row, every label laid out, bars where the
// numbers say, and a screenshot (written to $TRACE_SCREENSHOT when set).
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { asyncIterableSequencer, errorBoundary, startTrace, traceLabel, traceToHtml, type Trace } from '../../src/index.ts';

const SECTIONS = 12;
const AGENTS = 20;

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* agent(name: string, fail: boolean): AsyncGenerator<string> {
  for (let i = 0; i < 3; i++) {
    await tick(i === 0 ? 1 : 0);
    if (fail && i === 1) throw new RangeError(`${name} failed`);
    yield `${name} ${i}`;
  }
}

/** A document of 12 sections of 20 agents each (one failing behind a boundary): about 260 nodes. */
async function traceOfBigWeave(): Promise<Trace> {
  const tracer = startTrace();
  const doc = asyncIterableSequencer<string>();
  traceLabel(doc.sequence, 'document');
  for (let s = 0; s < SECTIONS; s++) {
    const section = asyncIterableSequencer<string>();
    for (let a = 0; a < AGENTS; a++) {
      const name = `agent ${s}.${a}`;
      section.chain(errorBoundary(agent(name, s === 3 && a === 7), () => ['(failed)']), { label: name });
    }
    section.chain(null);
    doc.chain(section.sequence, { label: `section ${s}` });
  }
  doc.chain(null);
  for await (const _ of doc.sequence);
  return tracer.stop();
}

let browser: Browser;
let page: Page;
let trace: Trace;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  trace = await traceOfBigWeave();
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1340, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.setContent(traceToHtml(trace, { title: 'a weave of 240 agents' }), { waitUntil: 'load' });
});
afterAll(async () => {
  await browser?.close();
});

describe('the trace timeline in Chromium', () => {
  test('the trace has a few hundred nodes and the page renders without an error', () => {
    // The root, the sections, the agents, and the fallback content of the one that failed.
    expect(trace.nodes.length).toBe(1 + SECTIONS + SECTIONS * AGENTS + 1);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  test('one SVG, one row per node, each label laid out inside its row', async () => {
    expect(await page.locator('svg').count()).toBe(1);
    const rows = page.locator('svg g.row');
    expect(await rows.count()).toBe(trace.nodes.length);
    const layout = await page.evaluate(() => {
      const texts = [...document.querySelectorAll('svg g.row > text:not(.mark)')] as SVGTextElement[];
      return {
        laidOut: texts.filter((t) => t.getBBox().width > 0 && t.getBBox().height > 0).length,
        svgHeight: document.querySelector('svg')!.getBoundingClientRect().height,
        last: texts.at(-1)!.textContent,
      };
    });
    expect(layout.laidOut).toBe(trace.nodes.length);
    expect(layout.svgHeight).toBeGreaterThanOrEqual(trace.nodes.length * 18);
    expect(layout.last).toBe(`agent ${SECTIONS - 1}.${AGENTS - 1}`);
    expect(await page.locator('.errors li').allTextContents()).toEqual(['agent 3.7 (main): recovered from RangeError: agent 3.7 failed']);
  });

  test('bars sit where the numbers say: a later node starts further right', async () => {
    const x = (label: string) =>
      page.evaluate((l) => {
        const row = [...document.querySelectorAll('svg g.row')].find((g) => g.querySelector('text')?.textContent === l)!;
        return Number(row.querySelector('rect.consume')!.getAttribute('x'));
      }, label);
    expect(await x(`section ${SECTIONS - 1}`)).toBeGreaterThan(await x('section 0'));
    expect(await page.locator('svg .mark.recovered').count()).toBe(1);
    expect(await page.locator('svg rect.wait').count()).toBeGreaterThan(0);
  });

  test('a screenshot of the page is a non-empty picture', async () => {
    const png = await page.screenshot({ fullPage: false });
    if (process.env.TRACE_SCREENSHOT) await writeFile(process.env.TRACE_SCREENSHOT, png);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });
});
