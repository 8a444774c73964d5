// The producer side of the worker_threads runs: the main thread sends
// `{ id, request }` with a transferred MessagePort, this worker sets up that
// contender's producer on it (see bench/lib/workload.ts) and answers `{ id }`.
// `{ id, profile: 'start' | 'stop' }` profiles this thread (`bench/bridge.ts --profile`).
import { parentPort } from 'node:worker_threads';
import { startProfile } from '../lib/profile.ts';
import { serve, type ProducerRequest } from '../lib/workload.ts';

let profiler: Awaited<ReturnType<typeof startProfile>> | null = null;

type Command = { id: number; request: ProducerRequest } | { id: number; profile: 'start' | 'stop' };

parentPort!.on('message', async (command: Command) => {
  if ('request' in command) {
    serve(command.request);
    parentPort!.postMessage({ id: command.id });
  } else if (command.profile === 'start') {
    profiler = await startProfile();
    parentPort!.postMessage({ id: command.id });
  } else {
    const profile = await profiler?.stop();
    profiler = null;
    parentPort!.postMessage({ id: command.id, profile });
  }
});
parentPort!.postMessage({ ready: true });
