// One HTTP load-generation process, forked by runHttpLoad (http-load.ts): receives its share of
// the connections, warms up, reports ready, waits for the parent's start, runs and reports.
import { runHttpLoadInProcess, type HttpParentMessage, type HttpWorkerMessage } from './http-load.js';

function send(message: HttpWorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

function nextMessage<T extends HttpParentMessage['type']>(type: T): Promise<Extract<HttpParentMessage, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (message: HttpParentMessage) => {
      if (message.type !== type) return;
      process.off('message', onMessage);
      resolve(message as Extract<HttpParentMessage, { type: T }>);
    };
    process.on('message', onMessage);
  });
}

/** Set once the report is sent: the disconnect that follows is this process's own. */
let reported = false;

async function main(): Promise<void> {
  // A parent that dies (or is stopped) without telling us: stop at once rather than load a
  // server nobody measures any more.
  process.once('disconnect', () => {
    if (!reported) process.exit(1);
  });
  if (process.send === undefined) throw new Error('http-load-worker runs only as a child of runHttpLoad (http-load.js)');
  // Listen for 'start' before announcing readiness, so it cannot be missed.
  const started = nextMessage('start');
  const { options } = await nextMessage('run');
  const report = await runHttpLoadInProcess(options, async () => {
    await send({ type: 'ready' });
    await started;
  });
  reported = true;
  await send({ type: 'report', report });
}

main()
  .catch(async (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (process.send !== undefined) await send({ type: 'failed', message }).catch(() => undefined);
    else console.error(message);
    process.exitCode = 1;
  })
  .finally(() => process.disconnect?.());
