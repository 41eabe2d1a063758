// Query parameters are read one value per name. A repeated name (`limit=1&limit=2`) arrives as a
// list that one route might read as its first value and another not at all, and a bracketed
// name (`limit[]=1`) was silently ignored: both are refused naming the parameter, for every route.
import type { FastifyRequest } from 'fastify';
import { invalid } from '../errors.js';
import { hasControlCharacter, TEXT_RULE } from '../formats.js';
import { refusePrototypeKey } from './json-body.js';

const BRACKET = /[[\]]/;

export async function refuseAmbiguousQuery(request: FastifyRequest): Promise<void> {
  for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) {
    if (BRACKET.test(name)) throw invalid(name, 'is not a query parameter: brackets are not read; give a parameter once, by its plain name');
    refusePrototypeKey(name, name);
    if (Array.isArray(value)) throw invalid(name, 'is given more than once');
    if (hasControlCharacter(name) || (typeof value === 'string' && hasControlCharacter(value))) throw invalid(name, TEXT_RULE);
  }
}
