// The short CI version of `npm run soak`: a ws server process and 20 clients in
// another process for 2 seconds of nested streams; every item checked for
// loss, duplication and order, the server's memory sampled, and its sessions
// gone once the clients have left. The full run is `npm run soak` (200 clients, 60 s).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SOAK = fileURLToPath(new URL('../../scripts/soak.ts', import.meta.url));

test('20 clients for 2 s against a ws server process: nothing lost, duplicated or reordered, nothing left open', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', SOAK, '--seconds', '2', '--clients', '20', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk) => (stdout += chunk));
  proc.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number>((resolve) => proc.once('exit', (c) => resolve(c ?? 1)));
  const last = stdout.trim().split('\n').pop() ?? '';
  expect(last, stderr).toMatch(/^\{/);
  const report = JSON.parse(last);
  expect(report).toMatchObject({ ok: true, clients: 20, lost: 0, duplicated: 0, outOfOrder: 0, failed: 0, errors: [] });
  expect(report.items).toBeGreaterThan(1_000);
  expect(report.cancelled).toBeGreaterThan(0); // cancellation ran under load too
  expect(report.memory.samples).toBeGreaterThan(5);
  expect(report.memory).toMatchObject({ sessionsAfter: 0, streamsAfter: 0 });
  expect(code).toBe(0);
}, 30_000);
