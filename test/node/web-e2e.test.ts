// The web demo end to end: the server of examples/web started in-process on
// port 0, and Debian's Chromium driven by Playwright loading its page. One
// page load is observed (while it streams and once it is finished); each test
// checks one thing about it.
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { catalogOrder } from '../../examples/web/app/catalog.tsx';
import { FEED_MESSAGES } from '../../examples/web/app/feed.ts';
import { PAGE_PARTS } from '../../examples/web/app/page.tsx';
import { GUESTBOOK } from '../../examples/web/app/panels.tsx';
import { startWebServer, type WebServer } from '../../examples/web/server/server.tsx';

const SLOW_MS = 1_200;
const BUDGET_MS = 100;
const FEED = { history: 3, historyDelayMs: 300, count: 9, intervalMs: 40 };
const UPDATES = FEED.history + FEED.count;

let server: WebServer;
let browser: Browser;
let page: Page;
const serverLog: string[] = [];
const pageErrors: string[] = [];
const dialogs: string[] = [];
/** What was seen while the page was still streaming. */
let early: { atMs: number; slowContentPresent: boolean; screenshot: Buffer };
/** Paint and swap times on the page's own clock (ms since navigation start). */
let timing: { firstContentfulPaintMs: number; swapMs: number };

beforeAll(async () => {
  server = await startWebServer({ port: 0, slowMs: SLOW_MS, budgetMs: BUDGET_MS, feed: FEED, log: (line) => serverLog.push(line) });
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 840 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(server.url, { waitUntil: 'commit' });
  await page.locator('.placeholder').waitFor({ state: 'visible' });
  const seen = await page.evaluate(() => ({
    atMs: performance.now(),
    slowContentPresent: document.querySelector('[data-node="recommendations"]') !== null,
  }));
  early = { ...seen, screenshot: await page.screenshot() };
  await page.locator('[data-node="recommendations"]').waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('#feed li').length >= n, UPDATES);
  timing = await page.evaluate(() => ({
    firstContentfulPaintMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    swapMs: performance.getEntriesByName('sw-swap:sw-1')[0]?.startTime ?? Number.NaN,
  }));
}, 20_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the streaming page over HTTP', () => {
  test('the first bytes and the slow component\'s placeholder arrive long before its HTML', async () => {
    const started = performance.now();
    const response = await fetch(server.url);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const decoder = new TextDecoder();
    const chunks: { atMs: number; text: string }[] = [];
    for await (const bytes of response.body!) chunks.push({ atMs: performance.now() - started, text: decoder.decode(bytes, { stream: true }) });
    const at = (text: string) => chunks.find((chunk) => chunk.text.includes(text))!.atMs;
    const lateAt = at('<template id="sw-1-late">');
    expect(lateAt).toBeGreaterThanOrEqual(SLOW_MS * 0.9);
    expect(chunks[0]!.atMs).toBeLessThan(lateAt * 0.25);
    expect(at('<sw-slot id="sw-1"')).toBeLessThan(lateAt * 0.5);
    expect(chunks.map((chunk) => chunk.text).join('')).toMatch(/<\/html>$/);
  });
});

describe('the demo page in Chromium', () => {
  test('paints before the slow component resolves', () => {
    console.log(
      `first contentful paint ${timing.firstContentfulPaintMs.toFixed(0)} ms, slow component swapped in at ` +
        `${timing.swapMs.toFixed(0)} ms (it takes ${SLOW_MS} ms; budget ${BUDGET_MS} ms)`,
    );
    expect(timing.firstContentfulPaintMs).toBeGreaterThan(0);
    expect(timing.firstContentfulPaintMs).toBeLessThan(timing.swapMs * 0.5);
    expect(timing.firstContentfulPaintMs).toBeLessThan(SLOW_MS * 0.5);
    // While streaming, the placeholder showed and the slow content did not exist yet.
    expect(early.slowContentPresent).toBe(false);
    expect(early.atMs).toBeLessThan(timing.swapMs);
    expect(early.screenshot.length).toBeGreaterThan(5_000);
  });

  test('the placeholder was swapped for the real content in place', async () => {
    expect(await page.locator('sw-slot, template, .placeholder').count()).toBe(0);
    const section = page.locator('section.panel', { has: page.locator('[data-node="recommendations"]') });
    expect(await section.locator('h2').textContent()).toBe('Recommended for you');
    expect(await page.locator('[data-node="recommendations"] li').first().textContent()).toContain('Merino yarn');
  });

  test('the final DOM order equals the component tree order, though the components finished in another order', async () => {
    const order = await page.locator('[data-node]').evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.node));
    expect(order).toEqual([...catalogOrder(), ...PAGE_PARTS.slice(1)]);
    const ranks = await page.locator('.catalog .finished').evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.rank)));
    expect(ranks).toHaveLength(catalogOrder().length - 1);
    expect(ranks).not.toEqual([...ranks].sort((a, b) => a - b)); // rendered in parallel, not one after another
  });

  test('the failing component shows its error fallback and the panels after it rendered', async () => {
    expect(await page.locator('[data-node="weather"]').textContent()).toBe('Weather is unavailable: weather service unreachable');
    expect(await page.locator('[data-node="weather"]').getAttribute('role')).toBe('alert');
    expect(await page.locator('.guestbook li').count()).toBe(GUESTBOOK.length);
    expect(serverLog).toContain('render: Weather failed: weather service unreachable');
  });

  test(`the live feed receives ${UPDATES} ordered updates over the socket: the slow backlog first, then the live ones`, async () => {
    const items = await page.locator('#feed li').evaluateAll((nodes) =>
      nodes.map((node) => ({ seq: Number((node as HTMLElement).dataset.seq), className: node.className })),
    );
    expect(items.map((item) => item.seq)).toEqual(Array.from({ length: UPDATES }, (_, i) => i + 1));
    expect(items.map((item) => item.className.split(' ')[1])).toEqual([
      ...Array<string>(FEED.history).fill('history'),
      ...Array<string>(FEED.count).fill('live'),
    ]);
    expect(await page.locator('#feed-status').textContent()).toBe('live');
    // Each pushed stream's weave() call resolved back on the server once painted.
    await expect.poll(() => serverLog.filter((line) => line.startsWith('feed: ')).sort()).toEqual([
      `feed: backlog painted (${FEED.history} updates)`,
      `feed: live updates painted (${FEED.count} updates)`,
    ]);
  });

  test('hostile strings in props and text render as text and run no script', async () => {
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    const entries = page.locator('.guestbook li');
    for (const [i, entry] of GUESTBOOK.entries()) {
      expect(await entries.nth(i).textContent()).toBe(`${entry.author}: ${entry.text}`);
      expect(await entries.nth(i).getAttribute('title')).toBe(entry.author);
      expect(await entries.nth(i).evaluate((li) => li.getAttributeNames())).toEqual(['class', 'title']);
    }
    expect(await page.locator('.guestbook a').evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual([
      'https://example.org/ada',
      'about:blank#blocked',
      'about:blank#blocked',
    ]);
    expect(await page.locator('.guestbook img, .guestbook script, #feed img').count()).toBe(0);
    const hostileUpdate = FEED_MESSAGES.findIndex((message) => message.includes('<img'));
    expect(await page.locator('#feed li .text').nth(hostileUpdate).textContent()).toBe(FEED_MESSAGES[hostileUpdate]);
  });

  test('a screenshot of the finished page is a non-empty picture', async () => {
    const png = await page.screenshot({ fullPage: true });
    if (process.env.WEB_DEMO_SCREENSHOT) await writeFile(process.env.WEB_DEMO_SCREENSHOT, png);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
    // Decode it in the browser and count pixels that are not the page background.
    const probe = await browser.newPage();
    const pixels = await probe.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const { data } = context.getImageData(0, 0, image.width, image.height);
      const colours = new Set<number>();
      let notWhite = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i]! < 235 || data[i + 1]! < 235 || data[i + 2]! < 235) notWhite++;
        colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      }
      return { width: image.width, height: image.height, notWhite, colours: colours.size };
    }, png.toString('base64'));
    await probe.close();
    expect(pixels.width).toBe(1280);
    expect(pixels.notWhite / (pixels.width * pixels.height)).toBeGreaterThan(0.05);
    expect(pixels.colours).toBeGreaterThan(50);
  });
});
