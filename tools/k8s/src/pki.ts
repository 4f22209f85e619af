// The local cluster's certificates and keys, made with openssl once per state directory and kept across restarts:
// a CA, the API server's serving certificate, its client certificate towards the kubelet, the kubelet's serving
// certificate, and the service-account signing key pair. Users authenticate with static tokens (tokens.csv).
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  caKey: string;
  apiserver: { cert: string; key: string };
  kubeletClient: { cert: string; key: string };
  kubeletServing: { cert: string; key: string };
  serviceAccount: { key: string; pub: string };
}

function openssl(args: string[], input?: string): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input });
  if (r.error) throw new Error(`openssl not found (${r.error.message}): apt-get install openssl`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/** A key pair and a certificate signed by the CA, with the given subject and subjectAltNames. */
function issue(dir: string, name: string, subject: string, usage: 'server' | 'client', sans: string[], ca: { cert: string; key: string }): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  if (fs.existsSync(key) && fs.existsSync(cert)) return { cert, key };
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
  const csr = openssl(['req', '-new', '-key', key, '-subj', subject]);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
    '',
  ].join('\n'));
  const serial = `0x${crypto.randomBytes(12).toString('hex')}`;
  openssl(['x509', '-req', '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial, '-days', '3650', '-extfile', ext, '-out', cert], csr);
  fs.rmSync(ext);
  return { cert, key };
}

/** Makes (or finds) every certificate and key under <dir>; `ips` are the API server's and kubelet's addresses. */
export function ensurePki(dir: string, o: { ips: string[]; nodeName: string; serviceIp: string }): Pki {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  if (!fs.existsSync(ca) || !fs.existsSync(caKey)) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', caKey]);
    openssl(['req', '-x509', '-new', '-key', caKey, '-subj', '/CN=strata-local-ca', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', '-out', ca]);
  }
  const signer = { cert: ca, key: caKey };
  const ipSans = [...new Set(['127.0.0.1', o.serviceIp, ...o.ips])].map((ip) => `IP:${ip}`);
  const apiserver = issue(dir, 'apiserver', '/CN=kube-apiserver', 'server', [...ipSans, 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'], signer);
  const kubeletClient = issue(dir, 'apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'client', [], signer);
  const kubeletServing = issue(dir, 'kubelet', `/O=system:nodes/CN=system:node:${o.nodeName}`, 'server', [...ipSans, `DNS:${o.nodeName}`, 'DNS:localhost'], signer);
  const saKey = path.join(dir, 'sa.key');
  const saPub = path.join(dir, 'sa.pub');
  if (!fs.existsSync(saKey) || !fs.existsSync(saPub)) {
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', saKey]);
    openssl(['pkey', '-in', saKey, '-pubout', '-out', saPub]);
  }
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.key')) fs.chmodSync(path.join(dir, f), 0o600);
  return { dir, ca, caKey, apiserver, kubeletClient, kubeletServing, serviceAccount: { key: saKey, pub: saPub } };
}

export interface Tokens {
  admin: string;
  controllerManager: string;
  scheduler: string;
  node: string;
}

/** The static tokens (kept in <dir>/tokens.json) and the API server's --token-auth-file lines. */
export function ensureTokens(dir: string, nodeName: string): { tokens: Tokens; file: string } {
  const json = path.join(dir, 'tokens.json');
  const tokens: Tokens = fs.existsSync(json)
    ? (JSON.parse(fs.readFileSync(json, 'utf8')) as Tokens)
    : { admin: crypto.randomBytes(24).toString('hex'), controllerManager: crypto.randomBytes(24).toString('hex'), scheduler: crypto.randomBytes(24).toString('hex'), node: crypto.randomBytes(24).toString('hex') };
  fs.writeFileSync(json, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  const file = path.join(dir, 'tokens.csv');
  // token,user,uid,"group1,group2": the built-in RBAC bindings know these user names (and the Node authorizer the node's).
  fs.writeFileSync(file, [
    `${tokens.admin},strata-admin,strata-admin,"system:masters"`,
    `${tokens.controllerManager},system:kube-controller-manager,system:kube-controller-manager`,
    `${tokens.scheduler},system:kube-scheduler,system:kube-scheduler`,
    `${tokens.node},system:node:${nodeName},system:node:${nodeName},"system:nodes"`,
    '',
  ].join('\n'), { mode: 0o600 });
  return { tokens, file };
}

/** A kubeconfig for one user with a bearer token. */
export function kubeconfig(o: { server: string; ca: string; user: string; token: string; namespace?: string }): string {
  const caData = fs.readFileSync(o.ca).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: strata-local',
    '  cluster:',
    `    server: ${o.server}`,
    `    certificate-authority-data: ${caData}`,
    'users:',
    `- name: ${o.user}`,
    '  user:',
    `    token: ${o.token}`,
    'contexts:',
    '- name: strata-local',
    '  context:',
    '    cluster: strata-local',
    `    user: ${o.user}`,
    ...(o.namespace ? [`    namespace: ${o.namespace}`] : []),
    'current-context: strata-local',
    '',
  ].join('\n');
}
