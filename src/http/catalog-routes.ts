// The catalog's routes: apply a catalog (JSON, or YAML with Content-Type application/yaml),
// export it (YAML or JSON, by Accept), and the subscriptions of customers and devices.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CATALOG_LIMITS } from '../catalog/catalog-document.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import { catalogYaml } from '../catalog/catalog-yaml.js';
import type { SubscriptionService } from '../catalog/subscription-service.js';
import { parseWith } from '../validation.js';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const applyQuery = z.object({ dry_run: z.enum(['true', 'false'], 'must be true or false').default('false') });

type Params = Record<string, string>;

export function registerCatalog(app: FastifyInstance, catalog: CatalogService, subscriptions: SubscriptionService): void {
  // A scope of its own, so that only this route reads YAML bodies, and up to a catalog's size.
  void app.register(async (scope) => {
    scope.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    scope.post('/v1/catalog/apply', { bodyLimit: CATALOG_LIMITS.bytesMax }, (request) => {
      const dryRun = parseWith(applyQuery, request.query).dry_run === 'true';
      return catalog.apply(isYaml(request.headers['content-type']) ? { text: request.body as string } : { value: request.body }, { dryRun });
    });
  });
  app.get('/v1/catalog/export', async (request, reply) => {
    const exported = await catalog.export();
    if (isYaml(request.headers.accept)) return reply.type('application/yaml; charset=utf-8').send(catalogYaml(exported));
    return exported.catalog;
  });
  const customer = (request: FastifyRequest<{ Params: Params }>) => ({ kind: 'customer' as const, id: request.params.id! });
  const device = (request: FastifyRequest<{ Params: Params }>) => ({ kind: 'device' as const, id: request.params.id! });
  app.put<{ Params: Params }>('/v1/customers/:id/subscription', (request) => subscriptions.put(customer(request), request.body));
  app.get<{ Params: Params }>('/v1/customers/:id/subscription', (request) => subscriptions.get(customer(request)));
  app.put<{ Params: Params }>('/v1/devices/:id/subscription', (request) => subscriptions.put(device(request), request.body));
  app.get<{ Params: Params }>('/v1/devices/:id/subscription', (request) => subscriptions.get(device(request)));
}

function isYaml(mediaType: string | undefined): boolean {
  return mediaType !== undefined && YAML_TYPES.some((type) => mediaType.toLowerCase().includes(type));
}
