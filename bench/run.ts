/**
 * `npm run bench` runs every benchmark; `npm run bench -- --smoke` is the short
 * run CI uses. Absolute times vary on shared machines; the ratios to baselines
 * measured in the same run are what the targets are about. A missed target
 * fails the full run; the smoke run only reports.
 */
import { setDefaultBuiltins } from '../core/src/plugins/builtin-packages.js';
import { builtinPackageDirs } from '../packages/meterhub/src/builtin-packages.js';
import { acquisitionBench } from './acquisition-bench.js';
import type { BenchContext } from './bench-report.js';
import { storageBench } from './storage-bench.js';
import { restBench } from './rest-bench.js';
import { proxyBench } from './proxy-bench.js';
import { liveBench } from './live-bench.js';
import { exportBench } from './export-bench.js';
import { uplinkBench } from './uplink-bench.js';
import { modbusServerBench } from './modbus-server-bench.js';
import { prometheusBench } from './prometheus-bench.js';
import { dashboardBench } from './dashboard-bench.js';
import { mqttBench } from './mqtt-bench.js';
import { pgSqlBench } from './pg-sql-bench.js';
import { pipelineBench } from './pipeline-bench.js';
import { importBench } from './import-bench.js';
import { costBench } from './cost-bench.js';
import { scaleBench } from './scale-bench.js';
import { cliBench } from './cli-bench.js';

// Hosts made in this process load the distribution's built-ins, as `meterhub start` does.
setDefaultBuiltins(builtinPackageDirs());

const ctx: BenchContext = { smoke: process.argv.includes('--smoke'), missed: [] };
console.log(`meterhub benchmarks${ctx.smoke ? ' (smoke run)' : ''}, node ${process.version}\n`);
console.log('== acquisition: 9600 baud 8N1, 10 ms turnaround, 60 ms silence between requests');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
if (!only || only === 'acquisition') await acquisitionBench(ctx);
console.log('\n== storage: one meter, 8 measurements per reading');
if (!only || only === 'storage') await storageBench(ctx);
console.log('\n== REST API: 2 cores, load from a separate process');
if (!only || only === 'rest') await restBench(ctx);
console.log('\n== behind a reverse proxy: base path, trusted proxy headers, load from a separate process');
if (!only || only === 'proxy') await proxyBench(ctx);
console.log('\n== live stream: Socket.IO clients in separate processes');
if (!only || only === 'live') await liveBench(ctx);
console.log('\n== export: host in its own process, download over loopback');
if (!only || only === 'export') await exportBench(ctx);
console.log('\n== uplink: collector in its own process, central host on loopback');
if (!only || only === 'uplink') await uplinkBench(ctx);
console.log('\n== Modbus TCP server: load from a separate process, 32 connections');
if (!only || only === 'modbus-server') await modbusServerBench(ctx);
console.log('\n== prometheus: /metrics over loopback, host in this process');
if (!only || only === 'prometheus') await prometheusBench(ctx);
console.log('\n== dashboard: headless Chromium, host with a simulated SDM630 on loopback');
if (!only || only === 'dashboard') await dashboardBench(ctx);
console.log('\n== mqtt: host in this process, local Mosquitto, subscriber in its own process');
if (!only || only === 'mqtt') await mqttBench(ctx);
console.log('\n== PostgreSQL readable with SQL: views over packed rows vs a wide table, one meter, 8 measurements per reading');
if (!only || only === 'pg-sql') await pgSqlBench(ctx);
console.log('\n== reading pipeline: push-to-live latency, event loop during a backfill');
if (!only || only === 'pipeline') await pipelineBench(ctx);
console.log('\n== import: meterhub import sql from the old Django tables into the storage of a polling host');
if (!only || only === 'import') await importBench(ctx);
console.log('\n== costs: a month of minute rollups priced with a time-of-use tariff');
if (!only || only === 'costs') await costBench(ctx);
console.log('\n== scale: simulated collectors through the uplink to 2 central hosts, one PostgreSQL, Socket.IO over Redis');
if (!only || only === 'scale') await scaleBench(ctx);
console.log('\n== CLI start-up and host footprint: commands from exec to exit, `meterhub start --demo` at rest');
if (!only || only === 'cli') await cliBench(ctx);
console.log(ctx.missed.length ? `\n${ctx.missed.length} target(s) missed: ${ctx.missed.join('; ')}` : '\nall targets met');
process.exit(ctx.missed.length && !ctx.smoke ? 1 : 0);
