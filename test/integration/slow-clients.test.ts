// Slow and idle HTTP clients cannot hold the server: 20 connections sending one byte every 15 s
// were still open after 150 s. A request must arrive whole within HTTP_REQUEST_TIMEOUT_MS and
// its headers within HTTP_HEADERS_TIMEOUT_MS (408 in the project's error format, then closed),
// an idle keep-alive connection closes after HTTP_KEEP_ALIVE_TIMEOUT_MS, and past
// HTTP_CONNECTIONS_MAX a new connection is closed at once. Each test waits for the close event
// itself, bounded by the test's timeout, never for a guessed time.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';

const REQUEST_TIMEOUT_MS = 600;
const HEADERS_TIMEOUT_MS = 300;
const KEEP_ALIVE_TIMEOUT_MS = 300;
const CONNECTIONS_MAX = 4;
/** The client's pace: well inside every timeout, so only the whole request's duration can trip one. */
const TRICKLE_EVERY_MS = 50;
/** Generous: a timeout fires within a quarter of itself after it is due; this allows for a loaded machine. */
const CLOSE_BOUND_MS = 10_000;

let slow: TestService;
let capped: TestService;

beforeAll(async () => {
  [slow, capped] = await Promise.all([
    startTestService('slow-clients', {
      environment: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      },
    }),
    startTestService('capped-clients', { environment: { HTTP_CONNECTIONS_MAX: String(CONNECTIONS_MAX) } }),
  ]);
});
afterAll(async () => {
  await slow?.close();
  await capped?.close();
});

interface Connection {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<{ text: string; afterMs: number }>;
}

function open(service: TestService): Promise<Connection> {
  const { hostname, port } = new URL(service.http.baseUrl);
  return new Promise((resolve, reject) => {
    const startedMs = Date.now();
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<{ text: string; afterMs: number }>((done) => {
      socket.on('close', () => done({ text: Buffer.concat(chunks).toString(), afterMs: Date.now() - startedMs }));
    });
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Sends `text` one byte at a time until it is sent or the server closes the connection. */
function trickle(connection: Connection, text: string): void {
  let position = 0;
  const timer = setInterval(() => {
    if (position >= text.length || connection.socket.destroyed) return clearInterval(timer);
    connection.socket.write(text[position++]!);
  }, TRICKLE_EVERY_MS);
  void connection.closed.then(() => clearInterval(timer));
}

function statusAndBody(text: string): { status: number; body: any } {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status: Number(text.split(' ')[1]), body: body === '' ? undefined : JSON.parse(body) };
}

describe('slow clients are cut off', () => {
  it('a body sent one byte at a time is refused with 408 REQUEST_TIMEOUT and the connection closed', { timeout: CLOSE_BOUND_MS }, async () => {
    const connection = await open(slow);
    const body = JSON.stringify({ top_up_id: 'slow', customer_id: 'nobody', amount: '1.00', currency: 'EUR' });
    connection.socket.write(`POST /v1/top-ups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    trickle(connection, body);
    const { text, afterMs } = await connection.closed;
    expect(statusAndBody(text)).toMatchObject({ status: 408, body: { error: { code: 'REQUEST_TIMEOUT', field: 'request' } } });
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - TRICKLE_EVERY_MS);
  });

  it('headers sent one byte at a time are cut off after the headers timeout', { timeout: CLOSE_BOUND_MS }, async () => {
    const connection = await open(slow);
    trickle(connection, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`);
    const { text, afterMs } = await connection.closed;
    expect(statusAndBody(text)).toMatchObject({ status: 408, body: { error: { code: 'REQUEST_TIMEOUT' } } });
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CLOSE_BOUND_MS / 2);
  });

  it('twenty trickling connections are all closed', { timeout: CLOSE_BOUND_MS }, async () => {
    const connections = await Promise.all(Array.from({ length: 20 }, () => open(slow)));
    for (const connection of connections) trickle(connection, `POST /v1/top-ups HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}`);
    const closes = await Promise.all(connections.map((connection) => connection.closed));
    expect(closes.map(({ text }) => statusAndBody(text).status)).toEqual(Array(20).fill(408));
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', { timeout: CLOSE_BOUND_MS }, async () => {
    const connection = await open(slow);
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const { text } = await connection.closed;
    expect(statusAndBody(text).status).toBe(200);
  });
});

describe('the connection cap', () => {
  it(`closes a connection past HTTP_CONNECTIONS_MAX (${CONNECTIONS_MAX}) at once, unanswered`, { timeout: CLOSE_BOUND_MS }, async () => {
    const held = await Promise.all(Array.from({ length: CONNECTIONS_MAX }, () => open(capped)));
    // An answered request proves the server has accepted each of them, before the next one comes.
    await Promise.all(held.map((connection) => answered(connection)));
    const extra = await open(capped);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await extra.closed).text).toBe('');
    for (const connection of held) connection.socket.destroy();
  });
});

function answered(connection: Connection): Promise<void> {
  return new Promise((resolve) => {
    connection.socket.once('data', () => resolve());
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}
