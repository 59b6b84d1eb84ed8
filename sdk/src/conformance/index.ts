/**
 * `@meterhub/sdk/conformance`: the driver conformance kit, apart from the
 * SDK's main entry so that plugins and the host do not load it.
 */
export { runConformance, type ConformanceCheck, type ConformanceReport } from './driver-conformance.js';
export { formatConformanceReport } from './conformance-report.js';
export { runDriverTestCli } from './driver-test-cli.js';
