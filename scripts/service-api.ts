// What the command-line tools share: where the running service is (--url, else IO_HTTP_URL,
// else 127.0.0.1:8080), its admin token (--token, else ADMIN_TOKEN), and one request to it.
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

export interface Target {
  url: string;
  token: string | undefined;
}

export function targetOf(values: { url?: string | undefined; token?: string | undefined }, environment: NodeJS.ProcessEnv): Target {
  return { url: (values.url ?? environment['IO_HTTP_URL'] ?? 'http://127.0.0.1:8080').replace(/\/$/, ''), token: values.token ?? environment['ADMIN_TOKEN'] };
}

/** The response, or undefined (said on `output`) when the service cannot be reached. */
export async function send(target: Target, path: string, init: { method: string; body?: string; headers: Record<string, string> }, output: CliOutput): Promise<Response | undefined> {
  const headers = { ...init.headers, ...(target.token === undefined ? {} : { authorization: `Bearer ${target.token}` }) };
  try {
    return await fetch(`${target.url}${path}`, { ...init, headers });
  } catch (error) {
    output.err(`cannot reach ${target.url}: ${(error as Error).cause ?? (error as Error).message}`);
    return undefined;
  }
}

/** The JSON answer of a request, or undefined (said on `output`) when it failed. */
export async function askJson(target: Target, path: string, method: 'GET' | 'POST', output: CliOutput, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const response = await send(target, path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, output);
  if (response === undefined) return undefined;
  if (!response.ok) {
    output.err(`${path}: ${response.status} ${await response.text()}`);
    return undefined;
  }
  return response.json();
}
