import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LambdaLocalError } from './errors.js';
import { type NodeRuntime, nodeMajorOf, nodeRuntimes } from './runtimes.js';

/** A `node` executable and its Node.js major. */
export interface NodeExecutable {
  path: string;
  major: number;
}

const run = promisify(execFile);

/** This process's own Node.js. */
const hostNode: NodeExecutable = {
  path: process.execPath,
  major: Number(process.versions.node.split('.')[0]),
};

/**
 * The `node` every runtime's instances run on: the configured executable, checked (it runs and is the
 * runtime's major), else this process's.
 */
export async function resolveNodeExecutables(
  configured: Partial<Record<NodeRuntime, string>>,
): Promise<Record<NodeRuntime, NodeExecutable>> {
  const entries = await Promise.all(
    nodeRuntimes.map(async (runtime): Promise<[NodeRuntime, NodeExecutable]> => {
      const path = configured[runtime];
      const expected = nodeMajorOf(runtime);
      if (!path) return [runtime, hostNode];
      let version: string;
      try {
        version = (await run(path, ['-p', 'process.versions.node'], { timeout: 30_000 })).stdout.trim();
      } catch (error) {
        throw new LambdaLocalError({
          code: 'INVALID_CONFIG',
          message: `nodeExecutables['${runtime}'] (${path}) does not run: ${String(error)}`,
          location: `nodeExecutables.${runtime}`,
          cause: error,
        });
      }
      const major = Number(version.split('.')[0]);
      if (major !== expected) {
        throw new LambdaLocalError({
          code: 'INVALID_CONFIG',
          message: `nodeExecutables['${runtime}'] (${path}) is Node.js ${version}, not ${expected}`,
          location: `nodeExecutables.${runtime}`,
        });
      }
      return [runtime, { path, major }];
    }),
  );
  return Object.fromEntries(entries) as Record<NodeRuntime, NodeExecutable>;
}
