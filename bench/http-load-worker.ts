// One HTTP load-generation process, forked by runHttpLoad (http-load.ts): receives its share of
// the connections, warms up, reports ready, waits for the parent's start, runs and reports.
import { runHttpLoadInProcess } from './http-load.js';
import { serveWorker } from './worker-processes.js';

serveWorker('http-load-worker', runHttpLoadInProcess);
