import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An in-process fake of the three Security Lake operations the custom resource calls, on loopback,
 * with the service model's paths and shapes (securitylake 2018-05-10). It lists one source per page
 * (so the caller must follow nextToken), answers 409 to a create of an existing name, 404 to a
 * delete of a missing one, and records every call with its Authorization header.
 */

export interface FakeCall {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly authorization: string;
  readonly amzDate: string;
}

export interface FakeSecurityLake {
  readonly url: string;
  readonly calls: FakeCall[];
  readonly sources: Map<string, { eventClasses: string[]; location: string }>;
  /** Runs before a create is applied (e.g. to let a concurrent copy win). */
  beforeCreate?: (name: string) => void;
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

export async function startFakeSecurityLake(): Promise<FakeSecurityLake> {
  const fake: FakeSecurityLake = {
    url: "",
    calls: [],
    sources: new Map(),
    stop: async () => undefined,
  };
  const server: Server = createServer(async (req, res) => {
    const payload = (await body(req)) as Record<string, unknown> | undefined;
    const path = req.url ?? "";
    fake.calls.push({
      method: req.method ?? "",
      path,
      body: payload,
      authorization: String(req.headers.authorization ?? ""),
      amzDate: String(req.headers["x-amz-date"] ?? ""),
    });
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    };
    if (req.method === "POST" && path === "/v1/datalake/logsources/list") {
      const names = [...fake.sources.keys()].sort();
      const start = payload?.nextToken ? names.indexOf(String(payload.nextToken)) : 0;
      const name = names[start];
      const next = names[start + 1];
      const page = name
        ? [
            {
              account: "123456789012",
              region: "us-east-1",
              sources: [
                {
                  customLogSource: {
                    sourceName: name,
                    sourceVersion: "1.0",
                    provider: { location: fake.sources.get(name)?.location },
                  },
                },
              ],
            },
          ]
        : [];
      return send(200, { sources: page, ...(next ? { nextToken: next } : {}) });
    }
    if (req.method === "POST" && path === "/v1/datalake/logsources/custom") {
      const name = String(payload?.sourceName);
      fake.beforeCreate?.(name);
      if (fake.sources.has(name)) return send(409, { message: `${name} already exists` });
      const location = `s3://aws-security-data-lake-us-east-1-fake/ext/${name}/`;
      fake.sources.set(name, { eventClasses: payload?.eventClasses as string[], location });
      return send(200, {
        source: {
          sourceName: name,
          sourceVersion: "1.0",
          provider: {
            location,
            roleArn: `arn:aws:iam::123456789012:role/AmazonSecurityLake-Provider-${name}`,
          },
        },
      });
    }
    const deleted = /^\/v1\/datalake\/logsources\/custom\/([^/?]+)$/.exec(path);
    if (req.method === "DELETE" && deleted) {
      const name = decodeURIComponent(deleted[1] as string);
      if (!fake.sources.delete(name)) return send(404, { message: `${name} not found` });
      return send(200, {});
    }
    send(400, { message: `no route ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
