// The HTTP transport: the charging API mirrored as JSON (proto3 JSON mapping, proto field
// names on output, either spelling on input), the operator's admin API and a health check.
// Errors leave as { "error": { "code", "message", "field" } } with the catalogued status.
import { timingSafeEqual } from 'node:crypto';
import { maxHeaderSize } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { BillingRun } from '../billing/billing-run.js';
import type { CorrectionService } from '../billing/corrections.js';
import { invoiceCsv, invoiceHtml, invoicePdf } from '../billing/invoice-documents.js';
import type { InvoiceService } from '../billing/invoices.js';
import type { PaymentService } from '../billing/payments.js';
import type { StatementService } from '../billing/statements.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import type { SubscriptionService } from '../catalog/subscription-service.js';
import type { ChargingService } from '../charging/charging-service.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { parseRfc3339, RFC3339_RULE } from '../formats.js';
import type { LedgerWorker } from '../ledger/ledger-worker.js';
import type { Rebuilder } from '../ledger/rebuilder.js';
import type { Reconciler } from '../ledger/reconciler.js';
import type { ProvisioningService } from '../provisioning/provisioning-service.js';
import { parseWith } from '../validation.js';
import { registerCatalog } from './catalog-routes.js';
import { answerClientError, fromFastifyError, sendError } from './error-replies.js';
import { registerJsonBody } from './json-body.js';
import { snakeCaseKeys } from './json-names.js';
import { refuseAmbiguousQuery } from './query-string.js';

export interface HttpServerOptions {
  bodyBytesMax: number;
  /** Bounds on slow or idle clients, so that a few connections trickling bytes cannot hold the server. */
  connections: HttpConnectionLimits;
  adminToken: string | undefined;
  benchNoopEnabled: boolean;
  /** Answers /healthz: true when Redis and PostgreSQL answer. */
  health: () => Promise<Record<string, boolean>>;
}

export interface HttpConnectionLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionsMax: number;
}

/** Node checks its request and headers timeouts on an interval (30 s by default); this keeps a timeout's overrun a quarter of it, at most 1 s. */
const TIMEOUT_CHECK_INTERVAL_MAX_MS = 1000;

export interface HttpServices {
  charging: ChargingService;
  provisioning: ProvisioningService;
  catalog: CatalogService;
  subscriptions: SubscriptionService;
  ledger: LedgerWorker;
  reconciler: Reconciler;
  rebuilder: Rebuilder;
  statements: StatementService;
  billing: BillingRun;
  invoices: InvoiceService;
  payments: PaymentService;
  corrections: CorrectionService;
  clock: Clock;
}

export function createHttpServer(services: HttpServices, log: FastifyBaseLogger, options: HttpServerOptions): FastifyInstance {
  // Fastify logs every request at info; charging is too hot for that, so its logger starts at warn.
  const app = Fastify({
    loggerInstance: log.child({}, { level: 'warn' }), bodyLimit: options.bodyBytesMax, return503OnClosing: true,
    requestTimeout: options.connections.requestTimeoutMs,
    keepAliveTimeout: options.connections.keepAliveTimeoutMs,
    http: {
      headersTimeout: options.connections.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MAX_MS, Math.ceil(options.connections.headersTimeoutMs / 4)),
    },
    // Fastify's default (100) refuses ids of 101 to 128 characters with its own 414. No segment
    // can be longer than the request line, so none is refused by the router: an id over the
    // limit reaches the handler and gets the 400 that names its field.
    routerOptions: { maxParamLength: maxHeaderSize },
    // A path the router cannot decode (a broken percent-escape) gets the project's error body
    // too, not Fastify's own.
    frameworkErrors: (error, _request, reply) => sendError(reply, fromFastifyError(error as FastifyError), log, error),
    // Requests Node's parser refuses (headers too large, malformed, too slow) get it as well.
    clientErrorHandler: answerClientError,
  });
  // Past the cap Node closes a new connection at once, before it can hold any memory.
  app.server.maxConnections = options.connections.connectionsMax;
  // Fastify reads text/plain bodies by default; only JSON is accepted (415 otherwise).
  app.removeContentTypeParser('text/plain');
  registerJsonBody(app);
  app.setErrorHandler((error, _request, reply) => sendError(reply, fromFastifyError(error as FastifyError), log, error));
  app.setNotFoundHandler((request, reply) => sendError(reply, new AppError('NOT_FOUND', `no route ${request.method} ${request.url}`), log));
  if (options.adminToken !== undefined) app.addHook('onRequest', bearerCheck(options.adminToken));
  app.addHook('onRequest', refuseAmbiguousQuery);

  app.get('/healthz', async (_request, reply) => {
    const checks = await options.health();
    return reply.status(Object.values(checks).every(Boolean) ? 200 : 503).send(checks);
  });
  if (options.benchNoopEnabled) app.post('/bench/noop', async () => ({ ok: true }));

  registerCharging(app, services.charging);
  registerProvisioning(app, services.provisioning);
  registerCatalog(app, services.catalog, services.subscriptions);
  registerLedger(app, services);
  registerBilling(app, services);
  return app;
}

const billingRunBody = z.strictObject({ as_of: z.string().refine((text) => parseRfc3339(text) !== undefined, RFC3339_RULE).optional() });

/** Billing runs on demand (they also run on a schedule), the invoices they made, and payments. */
function registerBilling(app: FastifyInstance, services: Pick<HttpServices, 'billing' | 'invoices' | 'payments' | 'corrections'>): void {
  app.post('/v1/billing/runs', (request) => {
    const { as_of: asOf } = parseWith(billingRunBody, request.body ?? {});
    return asOf === undefined ? services.billing.run() : services.billing.run(parseRfc3339(asOf)!);
  });
  app.get<{ Params: Params }>('/v1/customers/:id/invoices', (request) => services.invoices.list(request.params.id));
  app.get<{ Params: Params }>('/v1/invoices/:id', (request) => services.invoices.get(request.params.id));
  app.post<{ Params: Params }>('/v1/invoices/:id/issue', (request) => services.billing.issue(request.params.id));
  app.get<{ Params: Params }>('/v1/invoices/:id/html', async (request, reply) =>
    reply.type('text/html; charset=utf-8').send(invoiceHtml(await services.invoices.get(request.params.id))));
  app.get<{ Params: Params }>('/v1/invoices/:id/csv', async (request, reply) =>
    reply.type('text/csv; charset=utf-8').send(invoiceCsv(await services.invoices.get(request.params.id))));
  app.get<{ Params: Params }>('/v1/invoices/:id/pdf', async (request, reply) =>
    reply.type('application/pdf').send(await invoicePdf(await services.invoices.get(request.params.id))));
  app.post<{ Params: Params }>('/v1/invoices/:id/void', (request) => services.corrections.void(request.params.id));
  app.post<{ Params: Params }>('/v1/invoices/:id/credit-notes', (request) => services.corrections.creditNote(request.params.id, request.body));
  app.post('/v1/payments', (request) => services.payments.record(request.body));
  app.get<{ Params: Params }>('/v1/customers/:id/receivables', (request) => services.payments.receivables(request.params.id));
}

/** The journal: what waits in Redis, whether Redis and the journal agree, restoring Redis from it, and statements. */
function registerLedger(app: FastifyInstance, services: Pick<HttpServices, 'ledger' | 'reconciler' | 'rebuilder' | 'statements' | 'clock'>): void {
  app.get('/v1/ledger/backlog', async () => {
    const backlog = await services.ledger.backlog(services.clock.nowMs());
    return { events: backlog.events, oldest_age_ms: backlog.oldestAgeMs };
  });
  app.get('/v1/ledger/reconciliation', () => services.reconciler.reconcile());
  app.post('/v1/ledger/rebuild', () => services.rebuilder.rebuild());
  app.get<{ Params: Params; Querystring: { at?: string } }>('/v1/customers/:id/statement', (request) =>
    services.statements.statement(request.params.id, request.query.at));
}

type Params = Record<string, string>;

function registerCharging(app: FastifyInstance, charging: ChargingService): void {
  const body = (request: FastifyRequest) => snakeCaseKeys(request.body);
  app.post('/v1/charging/reserve', (request) => charging.reserve(body(request)));
  app.post('/v1/charging/commit', (request) => charging.commit(body(request)));
  app.post('/v1/charging/release', (request) => charging.release(body(request)));
  app.post('/v1/charging/charge', (request) => charging.charge(body(request)));
  app.post('/v1/top-ups', (request) => charging.topUp(body(request)));
  app.post('/v1/charging/price-enquiry', (request) => charging.priceEnquiry(body(request)));
  app.get<{ Params: Params }>('/v1/balances/customers/:id', (request) => charging.getBalance({ customer_id: request.params.id }));
  app.get<{ Params: Params }>('/v1/balances/devices/:id', (request) => charging.getBalance({ device_id: request.params.id }));
}

function registerProvisioning(app: FastifyInstance, provisioning: ProvisioningService): void {
  app.put<{ Params: Params }>('/v1/rating-groups/:id', (request) => provisioning.putRatingGroup(request.params.id, request.body));
  app.get('/v1/rating-groups', async () => ({ items: await provisioning.listRatingGroups() }));
  app.put<{ Params: Params }>('/v1/tariffs/:id', (request) => provisioning.putTariff(request.params.id, request.body));
  app.get<{ Params: Params }>('/v1/tariffs/:id', (request) => provisioning.getTariff(request.params.id));
  app.get('/v1/tariffs', async () => ({ items: await provisioning.listTariffs() }));
  app.put<{ Params: Params }>('/v1/customers/:id', (request) => provisioning.putCustomer(request.params.id, request.body));
  app.get<{ Params: Params }>('/v1/customers/:id', (request) => provisioning.getCustomer(request.params.id));
  app.get('/v1/customers', (request) => provisioning.listCustomers(request.query));
  app.get<{ Params: Params }>('/v1/customers/:id/devices', (request) => provisioning.listDevices(request.params.id, request.query));
  app.post<{ Params: Params }>('/v1/customers/:id/allowances', async (request, reply) => {
    const { created, allowance } = await provisioning.createAllowance(request.params.id, request.body);
    return reply.status(created ? 201 : 200).send(allowance);
  });
  app.get<{ Params: Params }>('/v1/customers/:id/allowances', async (request) => ({ items: await provisioning.listAllowances(request.params.id) }));
  app.put<{ Params: Params }>('/v1/devices/:id', (request) => provisioning.putDevice(request.params.id, request.body));
  app.get<{ Params: Params }>('/v1/devices/:id', (request) => provisioning.getDevice(request.params.id));
  app.post<{ Params: Params }>('/v1/devices/:id/suspend', (request) => provisioning.setDeviceStatus(request.params.id, 'suspended'));
  app.post<{ Params: Params }>('/v1/devices/:id/resume', (request) => provisioning.setDeviceStatus(request.params.id, 'active'));
}

function bearerCheck(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (request: FastifyRequest) => {
    // Decided by the route the router matched, never by request.url: the router decodes the
    // path first, so /%761/customers is /v1/customers. A path no route matches needs the token too.
    const route = request.routeOptions.url;
    if (route !== undefined && !route.startsWith('/v1/')) return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('UNAUTHENTICATED', 'send the admin token as "Authorization: Bearer <token>"', 'authorization');
    }
  };
}
