import type { Logger } from '@switchyard/core';
import type { AwsClients } from './aws-clients.js';
import type { ControlPlane } from './control-plane.js';

/** What every step of a deployment (or undeployment) shares. */
export interface DeploymentContext {
  clients: AwsClients;
  controlPlane: ControlPlane;
  /** The model name: the value of every `switchyard:deployment` tag. */
  model: string;
  region: string;
  dryRun: boolean;
  logger: Logger;
}

/** Makes a write call with the control plane's retries, unless this is a dry run (then: undefined). */
export async function write<T>(
  context: DeploymentContext,
  label: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  if (context.dryRun) return undefined;
  return context.controlPlane.call(label, call);
}

/** A read with the control plane's retries (throttling applies to reads too). */
export function read<T>(context: DeploymentContext, label: string, call: () => Promise<T>): Promise<T> {
  return context.controlPlane.call(label, call);
}
