// The swarm's SSE parser and OpenAI-compatible streaming client, against a
// real local HTTP server that splits its writes anywhere and can fail mid-stream.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rootRequest } from '../../examples/agent-swarm/agents.ts';
import { ModelHttpError, ModelStreamError } from '../../examples/agent-swarm/errors.ts';
import { completionsUrl, openAiChatModel } from '../../examples/agent-swarm/openai-model.ts';
import { loadPrompts } from '../../examples/agent-swarm/prompts.ts';
import { SseParser, sseEvents } from '../../examples/agent-swarm/sse.ts';
import { startSseServer } from './fixtures/swarm-sse-server.ts';

describe('the SSE parser', () => {
  const feed = (chunks: string[]) => {
    const parser = new SseParser();
    return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
  };

  test('joins lines split across chunks', () => {
    expect(feed(['da', 'ta: {"a"', ':1}\n', '\n'])).toEqual([{ event: 'message', data: '{"a":1}' }]);
  });

  test('takes LF, CRLF and CR line ends, with a CRLF split across chunks counted once', () => {
    expect(feed(['data: a\r', '\n\r', '\ndata: b\r\rdata: c\n\n'])).toEqual([
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
      { event: 'message', data: 'c' },
    ]);
  });

  test('joins data lines, reads event and id fields, skips comments and dataless events', () => {
    expect(feed([': ping\n\nevent: x\n\nid: 7\nevent: error\ndata: one\ndata:two\ndata\n\n'])).toEqual([{ event: 'error', data: 'one\ntwo\n', id: '7' }]);
  });

  test('dispatches a last event whose blank line never came', () => {
    expect(feed(['data: [DONE]'])).toEqual([{ event: 'message', data: '[DONE]' }]);
  });

  test('decodes a UTF-8 character split across byte chunks', async () => {
    const bytes = Buffer.from('data: café ☕\n\n');
    async function* split() {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    const events = [];
    for await (const event of sseEvents(split())) events.push(event);
    expect(events).toEqual([{ event: 'message', data: 'café ☕' }]);
  });
});

describe('the OpenAI-compatible client against a local SSE server', () => {
  let server: Awaited<ReturnType<typeof startSseServer>>;
  const request = rootRequest('tides', { depth: 1, breadth: 1 }, loadPrompts());
  beforeAll(async () => {
    server = await startSseServer();
  });
  afterAll(() => server.close());

  async function read(scenario: string, apiKey?: string): Promise<{ tokens: string[]; error: unknown }> {
    const model = openAiChatModel({ url: `${server.url}/${scenario}/v1`, model: 'test-model', apiKey });
    const tokens: string[] = [];
    try {
      for await (const token of model.stream(request, new AbortController().signal)) tokens.push(token);
      return { tokens, error: undefined };
    } catch (error) {
      return { tokens, error };
    }
  }

  test('streams the content deltas in order and sends a streaming chat request', async () => {
    const { tokens, error } = await read('ok', 'sk-test');
    expect(error).toBeUndefined();
    expect(tokens.join('')).toBe('# Tides\n\nIntro. <section topic="Moon"> Grüße, café ☕.');
    const seen = server.requests.find((r) => r.path.startsWith('/ok/'))!;
    expect(seen.path).toBe('/ok/v1/chat/completions');
    expect(seen.headers.authorization).toBe('Bearer sk-test');
    expect(seen.body).toMatchObject({ model: 'test-model', stream: true, messages: request.messages });
  });

  test('a server that dies mid-stream is a ModelStreamError after the tokens that arrived', async () => {
    const { tokens, error } = await read('cut');
    expect(tokens).toEqual(['One ', 'two ']);
    expect(error).toBeInstanceOf(ModelStreamError);
    expect((error as ModelStreamError).code).toBe('ERR_MODEL_STREAM');
    // The transport's error, not a parse error of the half line.
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((error as Error).cause).not.toBeInstanceOf(SyntaxError);
  });

  test('an error event, an error chunk and a malformed chunk are ModelStreamErrors', async () => {
    for (const scenario of ['error-event', 'error-chunk', 'malformed']) {
      const { tokens, error } = await read(scenario);
      expect(tokens, scenario).toEqual(['Before. ']);
      expect(error, scenario).toBeInstanceOf(ModelStreamError);
    }
    expect(String((await read('error-event')).error)).toContain('overloaded');
  });

  test('a stream that ends without [DONE] or a finish reason is a ModelStreamError', async () => {
    const { tokens, error } = await read('no-done');
    expect(tokens.join('')).toBe('Half a story');
    expect(error).toBeInstanceOf(ModelStreamError);
  });

  test('an HTTP error status is a ModelHttpError with the server\'s message', async () => {
    const { error } = await read('unauthorized');
    expect(error).toBeInstanceOf(ModelHttpError);
    expect((error as ModelHttpError).status).toBe(401);
    expect((error as Error).message).toContain('Incorrect API key');
  });

  test('leaving the stream early closes the HTTP request', async () => {
    const model = openAiChatModel({ url: `${server.url}/slow/v1/chat/completions`, model: 'm' });
    for await (const token of model.stream(request, new AbortController().signal)) {
      expect(token).toBe('Start. ');
      break;
    }
    const seen = server.requests.find((r) => r.path.startsWith('/slow/'))!;
    await seen.closed; // would hang (test timeout) if the request stayed open
  });

  test('completionsUrl adds the path to a base URL only', () => {
    expect(completionsUrl('https://api.example.com/v1/')).toBe('https://api.example.com/v1/chat/completions');
    expect(completionsUrl('http://h/v1/chat/completions')).toBe('http://h/v1/chat/completions');
  });
});
