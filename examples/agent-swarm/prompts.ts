/**
 * Prompts per agent role, as data: `prompts.json` holds the text, this file
 * only loads it and fills in the placeholders.
 *
 * Placeholders: `{topic}` (this agent's topic), `{title}` (the topic as a
 * heading), `{subject}` (the root topic), `{outline}` (the path from the root),
 * `{hashes}` (the heading's `#`s), `{breadth}` (sections to hand out) and
 * `{depth}` (0 for the root).
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** The two roles: an orchestrator hands out sections, a writer writes one. */
export type Role = 'orchestrator' | 'writer';

/** One chat message, as OpenAI-compatible endpoints take them. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The prompt templates of one role. */
export interface RolePrompts {
  system: string;
  user: string;
}

/** Every role's templates. */
export type Prompts = Record<Role, RolePrompts>;

/** The values a template may refer to. */
export type PromptValues = Record<'topic' | 'title' | 'subject' | 'outline' | 'hashes' | 'breadth' | 'depth', string>;

/** Loads and checks a prompts file (by default the `prompts.json` next to this module). */
export function loadPrompts(url: URL = new URL('./prompts.json', import.meta.url)): Prompts {
  const data = JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  const role = (name: Role): RolePrompts => {
    const value = data[name] as Partial<RolePrompts> | undefined;
    if (typeof value?.system !== 'string' || typeof value.user !== 'string') {
      throw new TypeError(`${url.pathname}: role "${name}" needs "system" and "user" strings`);
    }
    return { system: value.system, user: value.user };
  };
  return { orchestrator: role('orchestrator'), writer: role('writer') };
}

/** Fills `{name}` placeholders; an unknown name is a `RangeError`, so a typo in the data shows at once. */
export function fillTemplate(template: string, values: PromptValues): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!Object.hasOwn(values, name)) throw new RangeError(`unknown prompt placeholder {${name}}`);
    return values[name as keyof PromptValues];
  });
}

/** The chat messages for one agent. */
export function renderMessages(prompts: Prompts, role: Role, values: PromptValues): ChatMessage[] {
  const templates = prompts[role];
  return [
    { role: 'system', content: fillTemplate(templates.system, values) },
    { role: 'user', content: fillTemplate(templates.user, values) },
  ];
}
