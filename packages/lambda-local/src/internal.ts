/**
 * What sibling Switchyard packages use from lambda-local beyond its public API. Not a public
 * contract: it may change in any release.
 */
export { writeZip, type ZipEntry } from './zip.js';
