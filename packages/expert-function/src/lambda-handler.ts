/**
 * The Lambda entry point of an expert function (handler `expert-function.handler`; built to
 * `dist/lambda/expert-function.mjs`). Loading the graphs happens here, at INIT (top-level await), so
 * cold starts report it as Init Duration and a broken manifest fails INIT rather than the first invoke.
 */
import { createExpertFunction } from './expert-function.js';

const expertFunction = createExpertFunction();
await expertFunction.ready;

export const handler = expertFunction.handler;
