// Across machines, as near as one machine gets: the WebSocket server and client
// run in two network namespaces joined by a veth pair, and the link is cut
// mid-stream. A cut link sends neither FIN nor RST, so only the sessions'
// peerTimeoutMs can tell: both sides must fail with a typed error in bounded
// time, the server's producer must finish, and nothing may hang. Needs root and
// iproute2; skipped with the reason otherwise. Only addresses inside the
// namespaces it creates are used, and the namespaces are always deleted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const PEER = fileURLToPath(new URL('./fixtures/netns-peer.ts', import.meta.url));
const tag = `sw${process.pid % 100_000}`;
const NS_SERVER = `${tag}s`;
const NS_CLIENT = `${tag}c`;
const VETH_SERVER = `${tag}a`; // interface names: 15 characters at most
const VETH_CLIENT = `${tag}b`;
const SUBNET = `10.${200 + (process.pid % 50)}.${(process.pid >> 6) % 250}`;
const SERVER_IP = `${SUBNET}.1`;
const CLIENT_IP = `${SUBNET}.2`;
const PORT = 18_080;
const PEER_TIMEOUT_MS = 1_000;

function ip(...args: string[]): { ok: boolean; out: string } {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`.trim() };
}

function cleanUp(): void {
  ip('netns', 'del', NS_SERVER);
  ip('netns', 'del', NS_CLIENT); // deleting a namespace deletes its end of the veth, and with it the other end
}

/** Sets up the namespaces and the link, or says why it cannot. */
function setUp(): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  const probe = ip('-V');
  if (!probe.ok) return `needs iproute2's ip command (apt-get install -y iproute2): ${probe.out}`;
  process.once('exit', cleanUp); // whatever happens to the run, the namespaces go
  const steps: string[][] = [
    ['netns', 'add', NS_SERVER],
    ['netns', 'add', NS_CLIENT],
    ['link', 'add', VETH_SERVER, 'type', 'veth', 'peer', 'name', VETH_CLIENT],
    ['link', 'set', VETH_SERVER, 'netns', NS_SERVER],
    ['link', 'set', VETH_CLIENT, 'netns', NS_CLIENT],
    ['-n', NS_SERVER, 'addr', 'add', `${SERVER_IP}/30`, 'dev', VETH_SERVER],
    ['-n', NS_CLIENT, 'addr', 'add', `${CLIENT_IP}/30`, 'dev', VETH_CLIENT],
    ['-n', NS_SERVER, 'link', 'set', VETH_SERVER, 'up'],
    ['-n', NS_CLIENT, 'link', 'set', VETH_CLIENT, 'up'],
    ['-n', NS_SERVER, 'link', 'set', 'lo', 'up'],
    ['-n', NS_CLIENT, 'link', 'set', 'lo', 'up'],
  ];
  for (const step of steps) {
    const result = ip(...step);
    if (!result.ok) {
      cleanUp();
      return `this machine does not allow network namespaces and veth pairs (ip ${step.join(' ')}: ${result.out})`;
    }
  }
  return null;
}

const unavailable = setUp();
if (unavailable !== null) console.warn(`[netns] skipped: ${unavailable}`);

/** A peer in its namespace; its JSON lines arrive as events. */
function peer(ns: string, args: string[]) {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', PEER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS) },
  });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      stderr += `${line}\n`;
    }
    for (const wake of waiters.splice(0)) wake();
  });
  proc.once('exit', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  /** Resolves with the first event named `name`, or rejects after `ms`. */
  const next = (name: string, ms = 10_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no "${name}" event from ${ns} within ${ms} ms; stderr: ${stderr.slice(-500)}`)), ms);
      const check = (): void => {
        const found = events.find((e) => e.event === name);
        if (found !== undefined) {
          clearTimeout(deadline);
          resolve(found);
        } else if (proc.exitCode !== null) {
          clearTimeout(deadline);
          reject(new Error(`${ns} exited (${proc.exitCode}) before "${name}"; stderr: ${stderr.slice(-500)}`));
        } else waiters.push(check);
      };
      check();
    });
  return { proc, next };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (unavailable === null) cleanUp();
  expect(ip('netns', 'list').out).not.toContain(tag);
});

describe('server and client in separate network namespaces', () => {
  test.skipIf(unavailable !== null)(
    `cutting the link mid-stream fails both sides with a typed error in bounded time${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      const server = peer(NS_SERVER, ['server', SERVER_IP, String(PORT)]);
      children.push(server.proc);
      await server.next('listening');
      const client = peer(NS_CLIENT, ['client', `ws://${SERVER_IP}:${PORT}/`]);
      children.push(client.proc);
      await server.next('session');
      await client.next('reading'); // 50 items crossed the link, in order

      // Unplug: both ends of the veth go down. No FIN, no RST: the sockets stay open, silent.
      const cutAt = performance.now();
      expect(ip('-n', NS_SERVER, 'link', 'set', VETH_SERVER, 'down').ok).toBe(true);
      expect(ip('-n', NS_CLIENT, 'link', 'set', VETH_CLIENT, 'down').ok).toBe(true);

      const bound = PEER_TIMEOUT_MS * (4 / 3) + 3_000; // the timeout, its tick, and process slack
      const [failed, closed] = await Promise.all([client.next('failed', bound), server.next('closed', bound)]);
      const elapsed = performance.now() - cutAt;
      expect(elapsed).toBeLessThan(bound);
      expect(elapsed).toBeGreaterThan(PEER_TIMEOUT_MS * 0.9); // detected by the timeout, not by luck
      // Typed on both sides: the peer went silent.
      expect(failed.error).toMatchObject({ name: 'PeerTimeoutError', code: 'ERR_PEER_TIMEOUT' });
      expect((failed.items as number) >= 50).toBe(true);
      expect(closed.reason).toMatchObject({ name: 'PeerTimeoutError', code: 'ERR_PEER_TIMEOUT' });
      // The server's producer ran its finally; both sessions let go of everything.
      expect(closed.finallies).toBe(1);
      for (const stats of [failed.stats, closed.stats]) {
        expect(stats).toMatchObject({ state: 'closed', incomingStreams: 0, outgoingStreams: 0, pendingCalls: 0, servingCalls: 0, inflightBytes: 0 });
      }
    },
    30_000,
  );
});
