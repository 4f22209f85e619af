#!/usr/bin/env node
// The registry reachable here serves only some platforms' builds of native packages (@swc/core-*, @nx/nx-*,
// @unrs/resolver-binding-*). `npm install` then leaves those optional dependencies out of package-lock.json and
// `npm ci` refuses the lock as out of sync. This records each missing one as an optional, platform-restricted entry,
// which `npm ci` skips on this platform without fetching. Run after every `npm install` that changes the lock.
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.resolve(__dirname, '../../package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony'];
const CPU = { x64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OS.find((o) => parts.includes(o));
  const cpu = Object.keys(CPU).find((c) => parts.includes(c));
  const libc = parts.some((p) => p.startsWith('musl')) ? 'musl' : parts.includes('gnu') || parts.some((p) => p.startsWith('gnueabi')) ? 'glibc' : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [where, meta] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = where === '' ? '' : `${where}/`;
    const candidates = [`${base}node_modules/${dep}`, `node_modules/${dep}`];
    if (candidates.some((c) => pkgs[c])) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os || !cpu) continue; // not a platform build: leave it for npm to report
    if (os === 'linux' && cpu === 'x64' && libc !== 'musl') {
      throw new Error(`${dep} is this machine's own platform build and is missing from the lock: run npm install again`);
    }
    const entry = { version: range.replace(/^[\^~=]/, ''), optional: true, os: [os], cpu: [CPU[cpu]] };
    if (libc) entry.libc = [libc];
    pkgs[`node_modules/${dep}`] = entry;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`pinned ${added} optional platform builds the registry does not serve\n`);
