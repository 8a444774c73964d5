/**
 * `npm start`: ChainExplode in one process.
 *
 * A conductor receives the chapters of a small guide. Writing a chapter (a
 * simulated delay, as if an agent were drafting it) discovers its sections,
 * and writing a section discovers its subsections. Every piece is written in
 * parallel as soon as it is discovered; the reader gets them in order, each as
 * soon as everything before it is there.
 */
import { ConductorStream, toReadableStream } from '../src/conductor.ts';
import { explode, type Expand } from '../src/weaver.ts';

/** A piece of the guide: writing it takes `ms`; it may discover more pieces. */
interface Topic {
  title: string;
  ms: number;
  children?: Topic[];
}

/** A written piece, as it reaches the reader. */
interface Piece {
  title: string;
  depth: number;
  tookMs: number;
  /** 1 for the first piece to finish being written, 2 for the next, ... */
  finishedRank: number;
}

const chapters: Topic[] = [
  {
    title: '1. Sources',
    ms: 350,
    children: [
      { title: '1.1 Arrays and generators', ms: 600 },
      { title: '1.2 Readable streams', ms: 250, children: [{ title: '1.2.1 Backpressure', ms: 400 }] },
    ],
  },
  {
    title: '2. Chaining',
    ms: 150,
    children: [
      { title: '2.1 The relay pattern', ms: 450 },
      { title: '2.2 Order without buffers', ms: 200 },
    ],
  },
  {
    title: '3. Exploding',
    ms: 500,
    children: [
      { title: '3.1 Work that discovers work', ms: 300, children: [{ title: '3.1.1 Depth for free', ms: 150 }] },
      { title: '3.2 Parallel, yet in order', ms: 100 },
    ],
  },
  { title: '4. Crossing boundaries', ms: 250, children: [{ title: '4.1 Workers and sockets', ms: 350 }] },
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const started = performance.now();
let finished = 0;

/** A topic and how deep in the guide it sits. */
interface Node {
  topic: Topic;
  depth: number;
}

/** Writes a topic (slowly), then explodes the subtopics that writing it discovered. */
const writeTopic: Expand<Node, Piece> = async ({ topic, depth }, { chain, explode: discover }) => {
  const begun = performance.now();
  await sleep(topic.ms);
  chain([{ title: topic.title, depth, tookMs: performance.now() - begun, finishedRank: ++finished }]);
  // Each subtopic's whole subtree sits right here in the output, whenever it finishes.
  for (const child of topic.children ?? []) discover({ topic: child, depth: depth + 1 });
};

/** The conductor: a title first, each chapter exploded in place as it is written in, a closing line last. */
const guide = new ConductorStream<Topic, Piece>({
  start(chain) {
    chain([{ title: 'A Field Guide to Streams', depth: 0, tookMs: 0, finishedRank: 0 }]);
  },
  transform(chapter, chain) {
    chain(explode({ topic: chapter, depth: 1 }, writeTopic));
  },
  finish(chain) {
    chain([{ title: '(end of the guide)', depth: 0, tookMs: 0, finishedRank: 0 }]);
  },
});

const pad = (text: string, width: number) => text.padStart(width);
console.log('stream-weaver demo: ChainExplode in one process\n');
console.log('Every piece below is written in parallel as soon as it is discovered, and read in order.');
console.log("'took' is how long writing the piece took; 'done' is the order pieces finished in.\n");
console.log(`${pad('arrived', 8)}  ${pad('took', 7)}  ${pad('done', 4)}  piece`);

let sequentialMs = 0;
for await (const piece of toReadableStream(chapters).pipeThrough(guide)) {
  sequentialMs += piece.tookMs;
  const arrived = `${((performance.now() - started) / 1000).toFixed(2)}s`;
  const took = piece.tookMs === 0 ? '' : `${Math.round(piece.tookMs)} ms`;
  const done = piece.finishedRank === 0 ? '' : `#${piece.finishedRank}`;
  const heading = piece.depth === 0 ? piece.title : `${'  '.repeat(piece.depth - 1)}${piece.title}`;
  console.log(`${pad(arrived, 8)}  ${pad(took, 7)}  ${pad(done, 4)}  ${heading}`);
}

const wallMs = performance.now() - started;
console.log(
  `\nWall time ${(wallMs / 1000).toFixed(2)} s for ${(sequentialMs / 1000).toFixed(2)} s of work done one piece ` +
    `after another: ${(sequentialMs / wallMs).toFixed(1)}x, and the order is intact.`,
);
