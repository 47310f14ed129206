import type { TestProject } from "vitest/node";
import { startMoto, VENV_BIN } from "../dev/moto-server";

/**
 * Before any test: start moto_server (dev/moto-server.ts installs the pinned Python tools into .venv
 * when missing) for S3, DynamoDB and Secrets Manager. Tests read its URL with `inject("motoEndpoint")`.
 * Stopped after the run.
 */

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
    venvBin: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide("motoEndpoint", moto.url);
  project.provide("venvBin", VENV_BIN);
  return async () => {
    moto.stop();
  };
}
