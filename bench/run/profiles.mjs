import { fmt } from '../common.mjs';
import { summarizeProfile } from '../profile-summary.mjs';
import { config, has } from './options.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Profiles (--profile): server CPU of the measured windows, per request, by area and by function.

export function profileReport(http) {
  const perCase = {};
  for (const [key, s] of Object.entries(http)) {
    const areaMs = {};
    const fnMs = {};
    let handled = 0;
    let busyMs = 0;
    for (const run of s.runs) {
      const summary = summarizeProfile(run.profileFile, 0);
      handled += run.handled;
      busyMs += summary.busyMs;
      for (const [k, v] of Object.entries(summary.areaMs)) areaMs[k] = (areaMs[k] ?? 0) + v;
      for (const [k, v] of Object.entries(summary.fnMs)) fnMs[k] = (fnMs[k] ?? 0) + v;
    }
    const us = (ms) => (ms * 1000) / handled;
    perCase[key] = {
      totalUs: us(busyMs),
      area: Object.fromEntries(Object.entries(areaMs).map(([k, v]) => [k, us(v)])),
      fn: Object.fromEntries(Object.entries(fnMs).map(([k, v]) => [k, us(v)])),
    };
  }
  const L = [
    `## CPU profiles of the measured windows${has('--profile-no-inline') ? ' (`--no-turbo-inlining`: self time stays with the function as written)' : ''}`,
    '',
    'Sampled in each server process (inspector, 250 µs) during the measured window only; profiles in `bench/profiles/`. ' +
      'Figures are self CPU time per handled request (µs), by area (see bench/profile-summary.mjs), then by function.',
    '',
  ];
  const col = (key, area) => perCase[key]?.area[area] ?? 0;
  for (const platform of config.platforms) {
    const keys = ['a/node', ...['b', 'c', 'd', 'e', 'f'].map((c) => `${c}/${platform}`)].filter((k) => perCase[k]);
    const areas = [...new Set(keys.flatMap((k) => Object.keys(perCase[k].area)))].sort(
      (x, y) => (perCase[`d/${platform}`]?.area[y] ?? 0) - (perCase[`d/${platform}`]?.area[x] ?? 0),
    );
    const hasD = Boolean(perCase[`d/${platform}`]);
    const diffs = hasD ? ['c', 'b', 'f'].filter((c) => perCase[`${c}/${platform}`]) : [];
    L.push(`### ${platform}: µs of server CPU per request, by area`, '');
    L.push(`| area | ${keys.join(' | ')} |${diffs.map((c) => ` d − ${c} |`).join('')}`);
    L.push(`|---|${keys.map(() => '---:|').join('')}${diffs.map(() => '---:|').join('')}`);
    for (const area of [...areas, 'TOTAL']) {
      const get = (k) => (area === 'TOTAL' ? perCase[k].totalUs : col(k, area));
      L.push(
        `| ${area} | ${keys.map((k) => fmt(get(k), 1)).join(' | ')} |${diffs.map((c) => ` ${fmt(get(`d/${platform}`) - get(`${c}/${platform}`), 1)} |`).join('')}`,
      );
    }
    L.push('');
    for (const c of ['d', 'e']) {
      const p = perCase[`${c}/${platform}`];
      if (!p) continue;
      const ranked = Object.entries(p.fn).sort((x, y) => y[1] - x[1]);
      L.push(
        `#### ${c}/${platform}: top functions (µs per request, share of the server's CPU)`,
        '',
        '| function | µs/req | share |',
        '|---|---:|---:|',
      );
      for (const [fn, v] of ranked.slice(0, 25))
        L.push(`| \`${fn}\` | ${fmt(v, 2)} | ${fmt((100 * v) / p.totalUs, 1)}% |`);
      L.push(
        '',
        `#### ${c}/${platform}: this library, every function`,
        '',
        '| function | µs/req | share |',
        '|---|---:|---:|',
      );
      for (const [fn, v] of ranked.filter(([fn]) => fn.startsWith('OURS'))) {
        L.push(`| \`${fn}\` | ${fmt(v, 2)} | ${fmt((100 * v) / p.totalUs, 2)}% |`);
      }
      L.push('');
    }
  }
  return L.join('\n');
}
