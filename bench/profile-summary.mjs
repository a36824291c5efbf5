// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by area, shares of the
// non-idle time. `node bench/profile-summary.mjs <file.cpuprofile> [--top N] [--json]`
// Areas: this library (dist/ of nestjs-scalekit-webhooks, or lib/), @nestjs/*, express / fastify and their
// dependencies, other node_modules, the benchmark scripts, node internals, GC, program (native/unknown).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { ROOT } from './common.mjs';

export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = deltas[i] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + dt);
  }
  const byFunction = new Map();
  const byArea = new Map();
  let idle = 0;
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += micros;
      continue;
    }
    total += micros;
    const where = locate(callFrame.url);
    const area = areaOf(callFrame.url, name);
    const key = `${area} | ${where}${where ? ':' : ''}${name}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
  }
  const share = (m) => (100 * m) / total;
  return {
    file,
    /** Every function's and area's self time in ms (for aggregation across profiles). */
    fnMs: Object.fromEntries([...byFunction].map(([fn, m]) => [fn, m / 1000])),
    areaMs: Object.fromEntries([...byArea].map(([area, m]) => [area, m / 1000])),
    busyMs: total / 1000,
    idleMs: idle / 1000,
    areas: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, m]) => ({ area, ms: m / 1000, share: share(m) })),
    functions: [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, m]) => ({ fn, ms: m / 1000, share: share(m) })),
    ours: [...byFunction]
      .filter(([fn]) => fn.startsWith('OURS'))
      .sort((a, b) => b[1] - a[1])
      .map(([fn, m]) => ({ fn, ms: m / 1000, share: share(m) })),
  };
}

function locate(url) {
  if (!url) return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      path = url;
    }
  }
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) return path.slice(nm + 'node_modules/'.length);
  return (path.startsWith('/') ? relative(ROOT, path) : path).replace(/^bench\/\.snapshot\/esm\//, 'dist/esm/');
}

function areaOf(url, name) {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(root)') return 'PROGRAM';
  if (!url) return 'NATIVE';
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  if (path.startsWith('node:')) return 'NODE';
  if (path.includes('/bench/.snapshot/')) return 'OURS';
  if (!path.includes('/node_modules/') && (path.includes(`${ROOT}/dist/`) || path.includes(`${ROOT}/lib/`))) {
    return 'OURS';
  }
  if (path.includes('/node_modules/nestjs-scalekit-webhooks/')) return 'OURS';
  if (path.includes('/node_modules/@nestjs/')) return 'NEST';
  if (
    /\/node_modules\/(express|body-parser|router|raw-body|on-finished|finalhandler|send|type-is|content-type|iconv-lite|qs)\//.test(
      path,
    )
  ) {
    return 'EXPRESS';
  }
  if (
    /\/node_modules\/(fastify|@fastify|avvio|find-my-way|light-my-request|pino|fast-json-stringify|secure-json-parse|abstract-logging)/.test(
      path,
    )
  ) {
    return 'FASTIFY';
  }
  if (path.includes('/node_modules/class-validator/') || path.includes('/node_modules/class-transformer/')) {
    return 'CLASS-VALIDATOR';
  }
  if (path.includes('/node_modules/rxjs/')) return 'RXJS';
  if (path.includes('/node_modules/')) return 'DEPS';
  if (path.includes(`${ROOT}/bench/`)) return 'BENCH';
  return 'OTHER';
}

export function formatSummary(summary, title = summary.file) {
  const lines = [
    `#### Profile: ${title}`,
    '',
    `busy ${summary.busyMs.toFixed(0)} ms (idle ${summary.idleMs.toFixed(0)} ms); shares are of busy time`,
    '',
  ];
  lines.push('| area | self ms | share |', '|---|---:|---:|');
  for (const { area, ms, share } of summary.areas) lines.push(`| ${area} | ${ms.toFixed(0)} | ${share.toFixed(1)}% |`);
  lines.push('', '| top functions (self time) | self ms | share |', '|---|---:|---:|');
  for (const { fn, ms, share } of summary.functions)
    lines.push(`| \`${fn}\` | ${ms.toFixed(0)} | ${share.toFixed(1)}% |`);
  if (summary.ours.length > 0) {
    lines.push('', '| this library, every function (self time) | self ms | share |', '|---|---:|---:|');
    for (const { fn, ms, share } of summary.ours) lines.push(`| \`${fn}\` | ${ms.toFixed(1)} | ${share.toFixed(2)}% |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N] [--json]');
    process.exit(2);
  }
  const topAt = args.indexOf('--top');
  const summary = summarizeProfile(file, topAt === -1 ? 25 : Number(args[topAt + 1]));
  console.log(args.includes('--json') ? JSON.stringify(summary, null, 2) : formatSummary(summary));
}
