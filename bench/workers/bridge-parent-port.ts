// The bridge served over the worker's own parentPort through the adapters
// (parentPortEndpoint on this side, nodeWorkerEndpoint(worker) on the other):
// the path users take, next to the transferred-port runs.
import { workerData } from 'node:worker_threads';
import { parentPortEndpoint } from '../../adapters/worker-threads.ts';
import { expose } from '../../src/index.ts';
import { bridgeHandlers } from '../lib/workload.ts';

expose(bridgeHandlers(), parentPortEndpoint(), { flow: (workerData as { flow?: object } | null)?.flow ?? {} });
