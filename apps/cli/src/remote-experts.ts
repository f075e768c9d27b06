// The `--target` wiring lives in @switchyard/server so `switchyard generate` and `switchyard serve` share it.
export { connectRemoteExperts, type RemoteExperts, type RemoteExpertsOptions } from '@switchyard/server';
