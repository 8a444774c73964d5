/**
 * What an agent is asked to do, and the rules of the swarm's shape: who may
 * spawn whom, how a child's request follows from its parent's, and what a
 * failed agent leaves in the document. Shared by the parallel swarm and the
 * sequential reference run, so both write the same document.
 *
 * @module
 */
import { renderMessages, type ChatMessage, type Prompts, type Role } from './prompts.ts';

/** The shape of a swarm: levels of sub-agents below the root, and sections per orchestrator. */
export interface SwarmShape {
  /** Levels below the root: 0 is the root alone. */
  depth: number;
  /** Sections each orchestrator hands out. */
  breadth: number;
}

/** One agent's assignment. Plain data: it crosses to the worker that runs the agent. */
export interface AgentRequest {
  /** `"root"`, then the child's number under its parent: `"2"`, `"2.1"`. */
  id: string;
  /** What this agent writes about (the root: the user's topic; a child: its directive's topic). */
  topic: string;
  /** The root topic, for context. */
  subject: string;
  /** Topics from the root down to this agent. */
  path: string[];
  /** 0 for the root. */
  depth: number;
  /** Sections this agent hands out (0 for a writer). */
  breadth: number;
  role: Role;
  /** The prompt, rendered from the role's templates. */
  messages: ChatMessage[];
}

/** The topic as a heading: first letter up. */
export function titleOf(topic: string): string {
  return topic.charAt(0).toUpperCase() + topic.slice(1);
}

function request(prompts: Prompts, shape: SwarmShape, id: string, path: string[]): AgentRequest {
  const depth = path.length - 1;
  const topic = path[depth]!;
  const role: Role = depth < shape.depth && shape.breadth > 0 ? 'orchestrator' : 'writer';
  const breadth = role === 'orchestrator' ? shape.breadth : 0;
  const values = {
    topic,
    title: titleOf(topic),
    subject: path[0]!,
    outline: path.map(titleOf).join(' > '),
    hashes: '#'.repeat(Math.min(depth + 1, 6)),
    breadth: String(breadth),
    depth: String(depth),
  };
  return { id, topic, subject: path[0]!, path, depth, breadth, role, messages: renderMessages(prompts, role, values) };
}

/** The root agent's request. */
export function rootRequest(subject: string, shape: SwarmShape, prompts: Prompts): AgentRequest {
  return request(prompts, shape, 'root', [subject]);
}

/** The request of the `index`-th (from 1) child that `parent` spawned with a directive for `topic`. */
export function childRequest(parent: AgentRequest, topic: string, index: number, shape: SwarmShape, prompts: Prompts): AgentRequest {
  const id = parent.id === 'root' ? String(index) : `${parent.id}.${index}`;
  return request(prompts, shape, id, [...parent.path, topic]);
}

/** Whether `parent`, having spawned `spawned` children so far, may spawn one more (extra directives are dropped). */
export function acceptsChild(parent: AgentRequest, spawned: number): boolean {
  return spawned < parent.breadth;
}

/** What a failed agent leaves in the document, after whatever it wrote before failing. */
export function errorNote(request: AgentRequest, error: unknown): string {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `\n\n> **Note:** agent ${request.id} ("${request.topic}") failed: ${reason.replace(/\s+/g, ' ')}\n\n`;
}
