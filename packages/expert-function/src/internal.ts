/**
 * What sibling Switchyard packages use from expert-function beyond its public API (lambda-executor:
 * the envelope its invokes speak, and the handler it packages). Not a public contract: it may change
 * in any release.
 */
export { decodeEnvelope, encodeEnvelope, envelopeBytes } from './envelope.js';
export { lambdaHandlerBundlePath, lambdaHandlerModuleUrl } from './lambda-bundle.js';
