// One gRPC load-generation process, forked by runLoad (load.ts): receives its share of the
// gateways, connects and warms up, reports ready, waits for the parent's start so that every
// process measures the same window, runs, and sends back its counters and latencies.
import { runLoadInProcess } from './load.js';
import { serveWorker } from './worker-processes.js';

serveWorker('load-worker', runLoadInProcess);
