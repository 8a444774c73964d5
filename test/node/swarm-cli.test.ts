// `npm start` end to end, as a child process without a terminal: --help, a bad
// option, a whole run (the document equals the sequential run, and stderr has
// no control characters), and Ctrl-C (exit 130, every agent stopped).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadPrompts } from '../../examples/agent-swarm/prompts.ts';
import { sequentialDocument } from '../../examples/agent-swarm/sequential.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../examples/agent-swarm/main.ts', import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStdout` may act on the output as it comes (to send a signal). */
function cli(args: string[], onStdout?: (soFar: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (data: string) => {
    stdout += data;
    onStdout?.(stdout, (signal) => child.kill(signal));
  });
  child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

describe.concurrent('npm start', () => {
  test('--help lists the options and exits 0', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const option of ['--depth', '--breadth', '--workers', '--tokens-per-second', '--seed', '--model-url', '--model', '--bench']) {
      expect(stdout).toContain(option);
    }
  });

  test('a bad option is reported and exits 2', async () => {
    const { code, stderr } = await cli(['--depth', 'deep']);
    expect(code).toBe(2);
    expect(stderr).toContain('--depth');
  });

  test('writes the sequential run\'s document to stdout and a plain summary to stderr', async () => {
    const args = ['--workers', '2', '--depth', '1', '--breadth', '2', '--tokens-per-second', '0', '--startup-ms', '0', '--seed', '5', 'tide pools'];
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(0);
    let expected = '';
    const model = { kind: 'sim', seed: 5, tokensPerSecond: 0, startupMs: 0 } as const;
    for await (const piece of sequentialDocument({ subject: 'tide pools', shape: { depth: 1, breadth: 2 }, model, prompts: loadPrompts() })) expected += piece;
    expect(stdout).toBe(expected);
    expect(stderr).toContain('swarm summary');
    expect(stderr).toMatch(/agents\s+3 \(3 done, 0 failed\)/);
    expect(CONTROL.test(stderr)).toBe(false);
  });

  test('Ctrl-C stops every agent, keeps what was written and exits 130', async () => {
    let sent = false;
    const { code, stdout, stderr } = await cli(['--workers', '2', '--tokens-per-second', '60', '--startup-ms', '0'], (soFar, kill) => {
      if (!sent && soFar.length > 80) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stdout.startsWith('# The lighthouse')).toBe(true);
    expect(stderr).toContain('every agent stopped');
    expect(stderr).toContain('swarm summary');
  });
});
